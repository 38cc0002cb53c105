// Parsing one migration file into statements with byte ranges: one libpg-query call for the whole file (or a tree
// parsed ahead, possibly on a worker thread: parallel.ts), and on a syntax error a split at top-level semicolons so
// one bad statement does not hide the findings of the others.
import { parse, scan } from 'libpg-query';
import { asNode, unwrap, type Node } from './ast.js';
import { findDirectives, type Directive } from './directives.js';
import type { ParseTree } from './parallel.js';
import { SourceText } from './text.js';

export interface FileInput {
  /** Path shown in findings and annotations (repository-relative). */
  file: string;
  sql: string;
  /** The tool runs this file outside a transaction. */
  noTransaction?: boolean;
}

export interface ParsedStatement {
  type: string;
  node: Node;
  byteStart: number;
  byteEnd: number;
  /** Node `location`s are relative to the text given to the parser: the whole file, or one piece after a syntax error. */
  nodeBase: number;
  error?: { message: string; byte: number };
}

export interface ParsedFile {
  input: FileInput;
  src: SourceText;
  statements: ParsedStatement[];
  directives: Directive[];
}

function sqlErrorDetails(err: unknown): { message: string; cursor?: number } {
  const e = err as { message?: string; sqlDetails?: { message?: string; cursorPosition?: number } };
  const cursor = e.sqlDetails?.cursorPosition;
  return {
    message: e.sqlDetails?.message ?? e.message ?? String(err),
    ...(typeof cursor === 'number' ? { cursor } : {}),
  };
}

/** Trims whitespace off a byte range (statement ranges may include leading blanks depending on the parser build). */
function trimRange(src: SourceText, start: number, end: number): [number, number] {
  const b = src.bytes;
  let s = Math.max(0, start);
  let e = Math.min(end, b.length);
  while (s < e && (b[s] === 0x20 || b[s] === 0x0a || b[s] === 0x0d || b[s] === 0x09)) s++;
  while (
    e > s &&
    (b[e - 1] === 0x20 || b[e - 1] === 0x0a || b[e - 1] === 0x0d || b[e - 1] === 0x09 || b[e - 1] === 0x3b)
  )
    e--;
  return [s, e];
}

function statementsFromResult(
  result: { stmts?: unknown[] },
  src: SourceText,
  base: number,
  limit: number,
): ParsedStatement[] {
  const out: ParsedStatement[] = [];
  for (const raw of result.stmts ?? []) {
    const r = asNode(raw) ?? {};
    // Zero values are omitted (protobuf style): no stmt_location = 0, no stmt_len = to the end of the input.
    const loc = typeof r.stmt_location === 'number' ? r.stmt_location : 0;
    const len = typeof r.stmt_len === 'number' && r.stmt_len > 0 ? r.stmt_len : undefined;
    const [s, e] = trimRange(src, base + loc, len === undefined ? limit : base + loc + len);
    const [type, node] = unwrap(r.stmt) ?? ['Unknown', {}];
    out.push({ type, node, byteStart: s, byteEnd: e, nodeBase: base });
  }
  return out;
}

/**
 * Parses a file with one libpg-query call. On a syntax error the file is split at top-level semicolons with the real
 * scanner and each piece parsed alone, so one bad statement does not hide the findings of the others.
 */
export async function parseFile(input: FileInput, tree: ParseTree | undefined): Promise<ParsedFile> {
  const src = new SourceText(input.sql);
  const directives = await findDirectives(src);
  if (input.sql.trim() === '') return { input, src, statements: [], directives };
  if (tree) return { input, src, statements: statementsFromResult(tree, src, 0, src.byteLength), directives };
  try {
    const result = (await parse(input.sql)) as { stmts?: unknown[] };
    return { input, src, statements: statementsFromResult(result, src, 0, src.byteLength), directives };
  } catch (err) {
    const whole = sqlErrorDetails(err);
    const pieces = await splitAtSemicolons(src);
    if (!pieces) {
      const errByte = whole.cursor !== undefined ? src.byteOfCharIndex(whole.cursor) : 0;
      const [s, e] = trimRange(src, 0, src.byteLength);
      return {
        input,
        src,
        directives,
        statements: [
          {
            type: 'ParseError',
            node: {},
            byteStart: s,
            byteEnd: e,
            nodeBase: 0,
            error: { message: whole.message, byte: errByte },
          },
        ],
      };
    }
    const statements: ParsedStatement[] = [];
    for (const [start, end] of pieces) {
      const text = src.slice(start, end);
      if (text.trim() === '') continue;
      try {
        const result = (await parse(text)) as { stmts?: unknown[] };
        statements.push(...statementsFromResult(result, src, start, end));
      } catch (pieceErr) {
        const d = sqlErrorDetails(pieceErr);
        const pieceSrc = new SourceText(text);
        const errByte = start + (d.cursor !== undefined ? pieceSrc.byteOfCharIndex(d.cursor) : 0);
        const [s, e] = trimRange(src, start, end);
        statements.push({
          type: 'ParseError',
          node: {},
          byteStart: s,
          byteEnd: e,
          nodeBase: start,
          error: { message: d.message, byte: errByte },
        });
      }
    }
    return { input, src, statements, directives };
  }
}

/** Byte ranges between top-level `;` tokens, or undefined when even the scanner fails (e.g. unterminated quote). */
async function splitAtSemicolons(src: SourceText): Promise<Array<[number, number]> | undefined> {
  let tokens: Array<{ start: number; end: number; text: string; tokenName: string }>;
  try {
    tokens = (await scan(src.text)).tokens;
  } catch {
    return undefined;
  }
  const out: Array<[number, number]> = [];
  let start = 0;
  for (const t of tokens) {
    if (t.text === ';' && t.tokenName.startsWith('ASCII_59')) {
      out.push([start, t.end]);
      start = t.end;
    }
  }
  if (start < src.byteLength) out.push([start, src.byteLength]);
  return out;
}
