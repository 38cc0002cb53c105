// Typed option readers over any InputSource (an action's inputs, the CLI's flags): every bad value becomes one
// InputError naming the input and quoting the value masked and on one line (quoteValue). Every reader starts at
// readRaw, which masks the value's secret parts (secretParts: URL passwords, credential query parameters, conninfo
// passwords) BEFORE anything parses it.
import { statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { hasLineBreak, quoteValue, secretParts } from '../core/redact.js';
import { parseDatabaseUrl } from '../core/database-url.js';
import type { InputSource } from './source.js';

/** The raw (trimmed) value of an input, its secret parts masked before anything else sees it. */
export function readRaw(src: InputSource, name: string): string {
  const value = src.get(name) ?? '';
  src.mask(secretParts(value));
  return value;
}

/** Refuses a line break: the value is one name, id or URL, and a line break in it could start a workflow command. */
export function oneLine(name: string, value: string): string {
  if (hasLineBreak(value)) throw new InputError(name, `must be a single line, got ${quoteValue(value)}`);
  return value;
}

export function readString(
  src: InputSource,
  name: string,
  opts: { required?: boolean; fallback?: string; multiline?: boolean } = {},
): string {
  const value = readRaw(src, name);
  if (value === '') {
    if (opts.required) throw new InputError(name, 'is required but was empty or not given');
    return opts.fallback ?? '';
  }
  return opts.multiline ? value : oneLine(name, value);
}

/** A secret (masked whole, never quoted back). */
export function readSecret(src: InputSource, name: string, opts: { required?: boolean } = {}): string {
  const value = src.get(name) ?? '';
  src.mask([value, ...secretParts(value)]);
  if (!value && opts.required)
    throw new InputError(name, 'is required but was empty (is the secret set for this repository/environment?)');
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
  const what = /[\r\n]/.test(c)
    ? 'a line break'
    : /\s/.test(c)
      ? 'whitespace'
      : code > 0x7e
        ? `a non-ASCII character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`
        : 'a control character';
  return `contains ${what} at character ${bad + 1} of ${chars.length}: a token is sent in an HTTP header, which takes visible ASCII only — paste the token value alone (the value is not shown)`;
}

/** A token sent in an HTTP header (GitHub, Railway): masked whole, checked by tokenProblem. */
export function readToken(src: InputSource, name: string, opts: { required?: boolean } = {}): string {
  const value = readSecret(src, name, opts);
  const problem = tokenProblem(value);
  if (problem) throw new InputError(name, problem);
  return value;
}

export function readBoolean(src: InputSource, name: string, fallback: boolean): boolean {
  const raw = readRaw(src, name);
  const value = raw.trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError(name, `expected true or false, got ${quoteValue(raw.trim())}`);
}

/** A duration (parseDuration); min/max are its natural bounds, stated in its help text. */
export function readDuration(
  src: InputSource,
  name: string,
  fallback: string,
  opts: { allowZero?: boolean; min?: number; max?: number; timer?: boolean } = {},
): number {
  const raw = readRaw(src, name);
  return parseDuration(raw === '' ? fallback : raw, name, opts);
}

/** True when the option was given (not left to its default). */
export function given(src: InputSource, name: string): boolean {
  return (src.get(name) ?? '').trim() !== '';
}

/**
 * A duration that must not exceed another option's (an interval longer than the timeout it runs in could never take
 * effect). action.yml defaults count: the runner passes them as input values, so the check sees what the step uses.
 */
export function notLongerThan(src: InputSource, name: string, ms: number, limitName: string, limitMs: number): void {
  if (ms > limitMs) {
    throw new InputError(
      name,
      `must not be longer than ${limitName} (${formatDuration(limitMs)}), got ${quoteValue(src.get(name) ?? '')}`,
    );
  }
}

export function readInteger(
  src: InputSource,
  name: string,
  fallback: number,
  opts: { min?: number; max?: number } = {},
): number {
  const raw = readRaw(src, name).trim();
  if (raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new InputError(name, `expected a whole number, got ${quoteValue(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n))
    throw new InputError(name, `expected a whole number below 2^53, got ${quoteValue(raw)}`);
  if (opts.min !== undefined && n < opts.min) throw new InputError(name, `must be at least ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new InputError(name, `must be at most ${opts.max}, got ${n}`);
  return n;
}

export function readChoice<T extends string>(src: InputSource, name: string, choices: readonly T[], fallback: T): T {
  const raw = readRaw(src, name).trim();
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
export function readUrl(
  src: InputSource,
  name: string,
  opts: {
    required?: boolean;
    fallback?: string;
    protocols?: string[];
    credentials?: 'allow' | 'refuse';
    why?: string;
  } = {},
): string {
  const raw = readRaw(src, name).trim() || opts.fallback || '';
  if (raw === '') {
    if (opts.required) throw new InputError(name, 'is required but was empty or not given');
    return '';
  }
  if (/[\t\r\n]/.test(raw)) throw new InputError(name, `must be a single URL on one line, got ${quoteValue(raw)}`);
  const protocols = opts.protocols ?? ['http:', 'https:'];
  if (opts.credentials === 'refuse' && secretParts(raw).length > 0) {
    throw new InputError(
      name,
      `must not contain credentials (user:password@ or a token in the query string)${opts.why ? `: ${opts.why}` : ''}; got ${quoteValue(raw)}`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(
      name,
      `expected an absolute URL (${protocols.map((p) => `${p}//…`).join(' or ')}), got ${quoteValue(raw)}`,
    );
  }
  if (!protocols.includes(url.protocol)) {
    throw new InputError(name, `expected a ${protocols.join(' or ')} URL, got ${quoteValue(raw)}`);
  }
  return url.toString();
}

/**
 * A directory, relative to `base` (absolute allowed), that must exist: a mistyped directory must not read as "nothing
 * here" (no migrations found, nothing to upload). Returns the absolute path.
 */
export function readDirectory(src: InputSource, name: string, fallback = '.', base = process.cwd()): string {
  return existingDirectory(name, readString(src, name, { fallback }), base);
}

/** `value` resolved against `base`, which must be a directory (an InputError naming `name` otherwise). */
export function existingDirectory(name: string, value: string, base = process.cwd()): string {
  const dir = path.resolve(base, value);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory)
    throw new InputError(
      name,
      `${quoteValue(value)} is not a directory of the checkout (resolved to ${quoteValue(dir)})`,
    );
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
      throw new InputError(
        name,
        `header '${header}' has a character an HTTP header cannot carry (${code}): values must be ISO-8859-1 text without control characters (the value is not shown)`,
      );
    }
  }
  return headers;
}

/** Newline- or comma-separated list, blanks dropped. */
export function readList(src: InputSource, name: string): string[] {
  return readRaw(src, name)
    .split(/[\r\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A PostgreSQL URL: the URL and every secret part of it (userinfo and query passwords, plain and URI-encoded) are
 * masked before anything is validated, so not even an input error can print them. Empty and not required → undefined.
 */
export function readDatabaseUrl(
  src: InputSource,
  name: string,
  opts: { required?: boolean } = {},
): { url: string; secrets: string[] } | undefined {
  const raw = readSecret(src, name, opts);
  if (!raw) return undefined;
  const parsed = parseDatabaseUrl(raw, name);
  src.mask(parsed.secrets);
  return parsed;
}
