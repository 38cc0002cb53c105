// Typed input readers on top of @actions/core: every bad value becomes one InputError naming the input and quoting
// the value masked and on one line (quoteValue). Every reader starts at readInput, which masks the value's secret
// parts (secretParts: URL passwords, credential query parameters, conninfo passwords) BEFORE anything parses it.
import { statSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { InputError } from '../../core/errors.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { hasLineBreak, quoteValue, registerSecrets, secretParts } from '../../core/redact.js';
import { parseDatabaseUrl } from '../../core/database-url.js';

/**
 * Masks values in the log (core.setSecret) and registers them for the messages this process builds. A multi-line
 * value is masked line by line as well: the runner masks what it reads line by line.
 */
export function mask(values: Iterable<string>): void {
  const all = new Set<string>();
  for (const value of values) {
    if (!value.trim()) continue;
    all.add(value);
    for (const line of value.split(/\r\n|\r|\n/)) if (line.trim()) all.add(line.trim());
  }
  for (const v of all) core.setSecret(v);
  registerSecrets(all);
}

/** The raw (trimmed) value of an input, its secret parts masked before anything else sees it. */
export function readInput(name: string): string {
  const value = core.getInput(name);
  mask(secretParts(value));
  return value;
}

/** Refuses a line break: the value is one name, id or URL, and a line break in it could start a workflow command. */
export function oneLine(name: string, value: string): string {
  if (hasLineBreak(value)) throw new InputError(name, `must be a single line, got ${quoteValue(value)}`);
  return value;
}

export function stringInput(name: string, opts: { required?: boolean; fallback?: string; multiline?: boolean } = {}): string {
  const value = readInput(name);
  if (value === '') {
    if (opts.required) throw new InputError(name, 'is required but was empty or not given');
    return opts.fallback ?? '';
  }
  return opts.multiline ? value : oneLine(name, value);
}

/** A secret (masked whole, never quoted back). */
export function secretInput(name: string, opts: { required?: boolean } = {}): string {
  const value = core.getInput(name);
  mask([value, ...secretParts(value)]);
  if (!value && opts.required) throw new InputError(name, 'is required but was empty (is the secret set for this repository/environment?)');
  return value;
}

/**
 * What keeps a token from being sent in an HTTP header, or undefined when it can be. Header values must be visible
 * ASCII — RFC 9110 §5.5 field-value characters; fetch throws a TypeError on anything outside ISO-8859-1 (Fetch
 * standard, "Headers" / byte strings) and a line break would split the header — so a token with whitespace, a line
 * break or a non-ASCII character (a copy-paste accident) is refused, naming the input, instead of failing every
 * request with an error about something else (the network, api-url) that may even print it.
 */
export function tokenProblem(value: string): string | undefined {
  const chars = [...value];
  const bad = chars.findIndex((c) => !/^[\x21-\x7e]$/.test(c));
  if (bad < 0) return undefined;
  const c = chars[bad] as string;
  const code = c.codePointAt(0) ?? 0;
  const what = /[\r\n]/.test(c) ? 'a line break' : /\s/.test(c) ? 'whitespace' : code > 0x7e ? `a non-ASCII character (U+${code.toString(16).toUpperCase().padStart(4, '0')})` : 'a control character';
  return `contains ${what} at character ${bad + 1} of ${chars.length}: a token is sent in an HTTP header, which takes visible ASCII only — paste the token value alone (the value is not shown)`;
}

/** A token sent in an HTTP header (GitHub, Railway): masked whole, checked by tokenProblem. */
export function tokenInput(name: string, opts: { required?: boolean } = {}): string {
  const value = secretInput(name, opts);
  const problem = tokenProblem(value);
  if (problem) throw new InputError(name, problem);
  return value;
}

export function booleanInput(name: string, fallback: boolean): boolean {
  const raw = readInput(name);
  const value = raw.trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError(name, `expected true or false, got ${quoteValue(raw.trim())}`);
}

/** A duration input (parseDuration); min/max are its natural bounds, stated in its action.yml description. */
export function durationInput(name: string, fallback: string, opts: { allowZero?: boolean; min?: number; max?: number } = {}): number {
  const raw = readInput(name);
  return parseDuration(raw === '' ? fallback : raw, name, opts);
}

/**
 * A duration that must not exceed another input's (an interval longer than the timeout it runs in could never take
 * effect). action.yml defaults count: the runner passes them as input values, so the check sees what the step uses.
 */
export function notLongerThan(name: string, ms: number, limitName: string, limitMs: number): void {
  if (ms > limitMs) {
    throw new InputError(name, `must not be longer than ${limitName} (${formatDuration(limitMs)}), got ${quoteValue(core.getInput(name))}`);
  }
}

export function integerInput(name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
  const raw = readInput(name).trim();
  if (raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new InputError(name, `expected a whole number, got ${quoteValue(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new InputError(name, `expected a whole number below 2^53, got ${quoteValue(raw)}`);
  if (opts.min !== undefined && n < opts.min) throw new InputError(name, `must be at least ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new InputError(name, `must be at most ${opts.max}, got ${n}`);
  return n;
}

export function choiceInput<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const raw = readInput(name).trim();
  if (raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new InputError(name, `expected one of ${choices.join(', ')}, got ${quoteValue(raw)}`);
  }
  return raw as T;
}

/**
 * An absolute URL. `credentials: 'refuse'` for URLs that are shown to others or cannot carry them (user:password@ or
 * a credential-named query parameter); they are masked either way. Line breaks and tabs are refused before parsing:
 * the WHATWG URL parser silently deletes them, so a value with one would otherwise pass as a different URL.
 */
export function urlInput(
  name: string,
  opts: { required?: boolean; fallback?: string; protocols?: string[]; credentials?: 'allow' | 'refuse'; why?: string } = {},
): string {
  const raw = readInput(name).trim() || opts.fallback || '';
  if (raw === '') {
    if (opts.required) throw new InputError(name, 'is required but was empty or not given');
    return '';
  }
  if (/[\t\r\n]/.test(raw)) throw new InputError(name, `must be a single URL on one line, got ${quoteValue(raw)}`);
  const protocols = opts.protocols ?? ['http:', 'https:'];
  if (opts.credentials === 'refuse' && secretParts(raw).length > 0) {
    throw new InputError(name, `must not contain credentials (user:password@ or a token in the query string)${opts.why ? `: ${opts.why}` : ''}; got ${quoteValue(raw)}`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(name, `expected an absolute URL (${protocols.map((p) => `${p}//…`).join(' or ')}), got ${quoteValue(raw)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new InputError(name, `expected a ${protocols.join(' or ')} URL, got ${quoteValue(raw)}`);
  }
  return url.toString();
}

/**
 * A directory of the checkout, relative to GITHUB_WORKSPACE (absolute allowed), that must exist: a mistyped
 * working-directory must not read as "nothing here" (no migrations found, nothing to check). Returns the absolute path.
 */
export function directoryInput(name: string, fallback = '.'): string {
  const value = stringInput(name, { fallback });
  const dir = path.resolve(process.env['GITHUB_WORKSPACE'] || process.cwd(), value);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) throw new InputError(name, `${quoteValue(value)} is not a directory of the checkout (resolved to ${quoteValue(dir)})`);
  return dir;
}

/**
 * Parsed `Name: value` headers whose values fetch can send: a header value is a byte string (Fetch standard, "Headers":
 * a character above U+00FF makes fetch throw a TypeError) without control characters (RFC 9110 §5.5). Refused here,
 * naming the input and the header, instead of failing every request of the check; the value is not quoted (it may be
 * a credential).
 */
export function sendableHeaders(name: string, headers: Record<string, string>): Record<string, string> {
  for (const [header, value] of Object.entries(headers)) {
    // Tab (0x09) is allowed; other C0 controls and DEL are not.
    const bad = [...value].find((c) => {
      const code = c.codePointAt(0) ?? 0;
      return code > 0xff || (code < 0x20 && code !== 0x09) || code === 0x7f;
    });
    if (bad !== undefined) {
      const code = `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      throw new InputError(name, `header '${header}' has a character an HTTP header cannot carry (${code}): values must be ISO-8859-1 text without control characters (the value is not shown)`);
    }
  }
  return headers;
}

/** Newline- or comma-separated list, blanks dropped. */
export function listInput(name: string): string[] {
  return readInput(name)
    .split(/[\r\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A PostgreSQL URL input: the URL and every secret part of it (userinfo and query passwords, plain and URI-encoded)
 * are masked before anything is validated, so not even an input error can print them. Empty and not required → undefined.
 */
export function databaseUrlInput(name: string, opts: { required?: boolean } = {}): { url: string; secrets: string[] } | undefined {
  const raw = secretInput(name, opts);
  if (!raw) return undefined;
  const parsed = parseDatabaseUrl(raw, name);
  mask(parsed.secrets);
  return parsed;
}
