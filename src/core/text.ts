// Escaping for the two markups job summaries mix: HTML (GitHub renders summary Markdown with inline HTML, sanitised)
// and GitHub-Flavoured Markdown table cells. One behaviour each, used by every summary and generated document.

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * Text → HTML that shows exactly that text, in element content and in double-quoted attribute values: `&` first
 * (so entities already in the text stay visible as typed), `<`/`>` (no tags), `"` (no attribute breakout).
 * HTML Living Standard §13.1.2.3 (attribute values) and §13.1.3 (text): https://html.spec.whatwg.org/multipage/syntax.html
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => HTML_ENTITIES[c] ?? c);
}

/**
 * Text → one GitHub-Flavoured Markdown table cell: `|` escaped as `\|` (the GFM way to put a pipe in a cell, inside
 * code spans too) and every line break, with the white space around it, folded to one space — a row ends at the
 * first line ending, so a raw CR or LF would cut the row. GFM spec "Tables (extension)":
 * https://github.github.com/gfm/#tables-extension-
 */
export function escapeMarkdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[^\S\r\n]*[\r\n]+\s*/g, ' ');
}

/** A job-summary table's header row: @actions/core's addTable renders a cell marked `header: true` as <th>. */
export function headerRow(...titles: string[]): Array<{ data: string; header: true }> {
  return titles.map((data) => ({ data, header: true }));
}
