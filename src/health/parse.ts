// Parsers for the health-check settings, shared by the action and the CLI so both accept (and reject) the same text.
// Every bad value becomes one InputError naming the input/flag it came from.
import { InputError } from '../core/errors.js';

export interface JsonCondition {
  path: string;
  value: string;
}

/**
 * `200`, `200,204`, `2xx`, `200-299`, or a mix separated by commas/whitespace → the sorted list of accepted codes.
 * A list (not a predicate) because that is the contract's shape and it reads well in summaries.
 */
export function parseExpectStatus(text: string, input = 'expect-status'): number[] {
  const tokens = text.split(/[\s,]+/).filter(Boolean);
  if (tokens.length === 0)
    throw new InputError(input, 'expected HTTP status codes like 200, 200,204, 2xx or 200-299, got an empty value');
  const codes = new Set<number>();
  const valid = (n: number) => Number.isInteger(n) && n >= 100 && n <= 599;
  for (const token of tokens) {
    const lower = token.toLowerCase();
    let from: number;
    let to: number;
    if (/^[1-5]xx$/.test(lower)) {
      from = Number(lower[0]) * 100;
      to = from + 99;
    } else if (/^\d{3}-\d{3}$/.test(lower)) {
      [from, to] = lower.split('-').map(Number) as [number, number];
    } else if (/^\d{3}$/.test(lower)) {
      from = to = Number(lower);
    } else {
      throw new InputError(input, `expected HTTP status codes like 200, 200,204, 2xx or 200-299, got '${token}'`);
    }
    if (!valid(from) || !valid(to) || from > to) {
      throw new InputError(input, `'${token}' is not a status code (or range) between 100 and 599`);
    }
    for (let code = from; code <= to; code++) codes.add(code);
  }
  return [...codes].sort((a, b) => a - b);
}

/** `200,204,205` → "200, 204-205"; `200..299` → "2xx": for logs and summaries. */
export function describeStatuses(codes: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === (codes[j] as number) + 1) j++;
    const from = codes[i] as number;
    const to = codes[j] as number;
    if (from % 100 === 0 && to === from + 99) parts.push(`${from / 100}xx`);
    else parts.push(from === to ? String(from) : `${from}-${to}`);
    i = j + 1;
  }
  return parts.join(', ');
}

const PATH = /^[^.=\s]+(\.[^.=\s]+)*$/;

/**
 * `status=ok`, `checks.db=ok` (dotted path, array indexes as numbers: `items.0.state=up`), one per line;
 * commas also separate conditions when what follows looks like another `path=` (so values may contain commas).
 */
export function parseExpectJson(text: string, input = 'expect-json'): JsonCondition[] {
  const pieces: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    for (const part of line.split(/,(?=\s*[^,=\s]+\s*=)/)) pieces.push(part.trim());
  }
  return pieces.filter(Boolean).map((piece) => {
    const eq = piece.indexOf('=');
    if (eq < 0)
      throw new InputError(input, `expected conditions like status=ok or checks.db=ok, got '${piece}' (no '=')`);
    const path = piece.slice(0, eq).trim();
    const value = piece.slice(eq + 1).trim();
    if (!PATH.test(path)) {
      throw new InputError(
        input,
        `'${path || '(empty)'}' in '${piece}' is not a field path (expected names joined by dots, like checks.db)`,
      );
    }
    return { path, value };
  });
}

/** `Name: value` lines → headers. Blank lines are ignored; anything else without a colon is an error. */
export function parseHeaders(text: string, input = 'headers'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    // Never echo the line itself: it may carry a credential.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new InputError(input, `line ${i + 1} is not a 'Name: value' header (a header name followed by a colon)`);
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

// Header names whose values are credentials by definition or convention.
const SECRET_HEADER = /auth|cookie|token|key|secret|session|passw|signature|credential|csrf|xsrf|jwt|bearer|private/i;
// Headers that are safe to show unless their value itself looks like a credential.
const HARMLESS_HEADER =
  /^(accept|accept-language|accept-encoding|user-agent|content-type|cache-control|pragma|host|origin|referer|x-request-id|x-forwarded-proto|x-forwarded-host)$/i;

/**
 * Header values to register as secrets: every value of a credential-like header (Authorization, Cookie, X-Api-Key…)
 * and of any header not known to be harmless. For `Scheme token` values the bare token is returned too, since code
 * (or a server echo) may print it without the scheme.
 */
export function secretHeaderValues(headers: Record<string, string>): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (!value) continue;
    const looksLikeCredential =
      /^(bearer|basic|token|digest)\s+\S/i.test(value) ||
      [...value.matchAll(/[A-Za-z0-9+/_=-]{20,}/g)].some((m) => /\d/.test(m[0]) && /[A-Za-z]/.test(m[0]));
    if (SECRET_HEADER.test(name) || !HARMLESS_HEADER.test(name) || looksLikeCredential) {
      out.add(value);
      const scheme = /^\S+\s+(\S.*)$/.exec(value);
      if (scheme?.[1] && scheme[1].length >= 4) out.add(scheme[1]);
    }
  }
  return [...out];
}

/** Query-string values and userinfo of the URL that are credentials (`?token=…`, `user:pass@`), for masking. */
export function secretUrlParts(url: string): string[] {
  const out: string[] = [];
  try {
    const u = new URL(url);
    if (u.password) out.push(decodeURIComponent(u.password));
    for (const [name, value] of u.searchParams) if (value && SECRET_HEADER.test(name)) out.push(value);
  } catch {
    // not a URL: nothing to mask
  }
  return out;
}
