// Inline ignore directives. Accepted forms (comment tokens found by the real Postgres scanner, so a directive-like text
// inside a string literal is not a directive):
//   -- rail-actions-ignore: rule-id[, rule-id] reason text       → the next statement (or the statement it trails on the same line)
//   -- rail-actions-ignore-file: rule-id[, rule-id] reason text  → every statement of the file
//   -- squawk-ignore rule-id[, rule-id]   /   -- squawk-ignore-file [rule-id, …]   (squawk's own forms)
// `all` (or `*`) stands for every rule. The reason is kept in the plan so reviewers see why a finding was accepted.
import { scan } from 'libpg-query';
import { expandRuleId } from './rules.js';
import type { SourceText } from './text.js';

export interface Directive {
  scope: 'statement' | 'file';
  /** Expanded rule ids; 'all' for every rule. */
  rules: string[] | 'all';
  /** Tokens that named no known rule. */
  unknown: string[];
  reason: string;
  line: number;
  /** Byte range of the comment. */
  start: number;
  end: number;
  /** Rules this directive actually suppressed (filled in by the analyzer). */
  used: Set<string>;
}

const MARKER = /(?:rail-actions|squawk)-ignore/i;
const DIRECTIVE = /^(?:--|\/\*)\s*(rail-actions|squawk)-ignore(-file)?\b\s*:?\s*(.*?)\s*(?:\*\/)?\s*$/is;

/** Parses one comment's text; undefined when it is not a directive. */
export function parseDirective(comment: string, line: number, start: number, end: number): Directive | undefined {
  const m = DIRECTIVE.exec(comment.trim());
  if (!m) return undefined;
  const flavour = (m[1] ?? '').toLowerCase();
  const fileScope = Boolean(m[2]);
  let rest = (m[3] ?? '').replace(/\s+/g, ' ');
  const tokens: string[] = [];
  // A comma-separated list of rule ids; whatever follows the last id is the reason.
  for (;;) {
    const t = /^([A-Za-z0-9*][A-Za-z0-9_-]*)\s*(,)?\s*/.exec(rest);
    if (!t) break;
    const id = t[1] ?? '';
    const looksLikeRule = id === '*' || id.toLowerCase() === 'all' || id.includes('-');
    if (!looksLikeRule) break;
    tokens.push(id);
    rest = rest.slice(t[0].length);
    if (!t[2]) break;
  }
  const reason = rest.replace(/^[-–—:;,.\s]+/, '').trim();
  let rules: string[] | 'all';
  const unknown: string[] = [];
  if (tokens.length === 0 || tokens.some((t) => t === '*' || t.toLowerCase() === 'all')) {
    // squawk-ignore-file with no rule list ignores everything; a bare rail-actions directive must name rules.
    if (tokens.length === 0 && !(flavour === 'squawk' && fileScope)) return undefined;
    rules = 'all';
  } else {
    const expanded = new Set<string>();
    for (const t of tokens) {
      const ids = expandRuleId(t);
      if (ids.length === 0) unknown.push(t);
      for (const id of ids) expanded.add(id);
    }
    rules = [...expanded];
  }
  return { scope: fileScope ? 'file' : 'statement', rules, unknown, reason, line, start, end, used: new Set() };
}

/** Every ignore directive in the file, in order. Scans only files that mention a directive at all. */
export async function findDirectives(src: SourceText): Promise<Directive[]> {
  if (!MARKER.test(src.text)) return [];
  const out: Directive[] = [];
  let tokens: Array<{ start: number; end: number; tokenName: string }>;
  try {
    tokens = (await scan(src.text)).tokens;
  } catch {
    // The scanner gives up on e.g. an unterminated literal; fall back to whole-line `--` comments.
    let offset = 0;
    for (const lineText of src.text.split('\n')) {
      const bytes = Buffer.byteLength(lineText, 'utf8');
      const idx = lineText.indexOf('--');
      if (idx !== -1 && lineText.slice(0, idx).trim() === '') {
        const start = offset + Buffer.byteLength(lineText.slice(0, idx), 'utf8');
        const d = parseDirective(lineText.slice(idx), src.lineOfByte(start), start, offset + bytes);
        if (d) out.push(d);
      }
      offset += bytes + 1;
    }
    return out;
  }
  for (const t of tokens) {
    if (t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT') continue;
    const text = src.slice(t.start, t.end);
    if (!MARKER.test(text)) continue;
    const d = parseDirective(text, src.lineOfByte(t.start), t.start, t.end);
    if (d) out.push(d);
  }
  return out;
}

export function directiveCovers(d: Directive, ruleId: string): boolean {
  return d.rules === 'all' || d.rules.includes(ruleId);
}
