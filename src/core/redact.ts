// Finding, masking and quoting secrets in user-supplied text. Pattern-based on purpose: a value is masked BEFORE it is
// parsed or validated, so a malformed URL (which a URL parser refuses) is masked exactly like a well-formed one and
// not even the error that refuses it can print its password.

/**
 * Names of query parameters, conninfo keywords and headers whose values are credentials by definition or convention
 * (password, sslpassword, token, access_token, api_key, secret, …). Over-matching (`sslkey`, a file path) only masks a
 * harmless value; under-matching leaks one.
 */
export const SECRET_NAME =
  /pass|pwd|secret|token|auth|key|session|cookie|credential|signature|jwt|bearer|private|csrf|xsrf/i;

// `scheme://userinfo@`: the userinfo runs to the LAST '@' before the path, query, fragment or whitespace, which is
// where the WHATWG URL parser (and libpq) end it too, so `p@ss` in an unencoded password is kept whole.
const USERINFO = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/([^\s/?#]*)@/g;
// A password pasted unencoded with a '/', '?' or '#' in it (`postgres://app:pa/ss@db/prod`): no parser reads it as a
// password (both end the authority at the '/') and the URL is refused — quoting the refused value must not show it.
const BROKEN_USERINFO = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:]*:([^\s@]*[/?#][^\s@]*)@/g;
// `?name=value` / `&name=value` in a query string (`?password=…&sslpassword=…`, `?access_token=…`).
const QUERY_PARAM = /([?&])([^=&#\s]+)=([^&#\s]*)/g;
// libpq's two secret keywords in a conninfo string (`host=db password=…`, `password = 'quoted \' value'`; PostgreSQL
// docs 32.1.1.1 "Keyword/Value Connection Strings" and 32.1.2 "Parameter Key Words"). Only these: other `name=value`
// text (expect-json's `auth.status=ok`, health-url's `auth=https://…`) is not a credential.
const CONNINFO_SECRET = /(^|\s)(password|sslpassword)[ \t]*=[ \t]*('(?:[^'\\]|\\.)*'?|\S*)/gi;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A userinfo without a password is a token when it looks like one (`https://ghp_…@github.com`), a user name when it
 * does not (`postgres://app@db`): masking a short name like `app` would make the runner blank every "app" in the log.
 */
function tokenLike(userinfo: string): boolean {
  return userinfo.length >= 20 || (userinfo.length >= 12 && /\d/.test(userinfo) && /[A-Za-z]/.test(userinfo));
}

function unquoteConninfo(value: string): string {
  if (!value.startsWith("'")) return value;
  return value.slice(1, value.endsWith("'") && value.length > 1 ? -1 : undefined).replace(/\\(.)/g, '$1');
}

/**
 * The secret-bearing parts of any text an input may hold — a URL, a database URL, a conninfo string, a list of URLs —
 * found by pattern, without parsing it first: URL userinfo (the password; a user standing alone when it looks like a
 * token, as in `https://<token>@host`), and the values of credential-named query parameters and conninfo keywords. Each part is
 * returned as written and percent-decoded, so whichever form a message prints is masked.
 */
export function secretParts(text: string): string[] {
  const out = new Set<string>();
  const add = (value: string) => {
    if (!value) return;
    out.add(value);
    out.add(decoded(value));
  };
  for (const m of text.matchAll(USERINFO)) {
    const userinfo = m[1] ?? '';
    const colon = userinfo.indexOf(':');
    if (colon >= 0) add(userinfo.slice(colon + 1));
    else if (tokenLike(userinfo)) add(userinfo);
  }
  for (const m of text.matchAll(BROKEN_USERINFO)) add(m[1] ?? '');
  for (const m of text.matchAll(QUERY_PARAM)) {
    if (SECRET_NAME.test(decoded(m[2] ?? ''))) add(m[3] ?? '');
  }
  for (const m of text.matchAll(CONNINFO_SECRET)) {
    add(m[3] ?? '');
    add(unquoteConninfo(m[3] ?? ''));
  }
  out.delete('');
  return [...out];
}

/** The text with its secret parts (see secretParts) replaced by *** in place; anything else is left as written. */
export function redactSecrets(text: string): string {
  return text
    .replace(BROKEN_USERINFO, (whole, password: string) => `${whole.slice(0, whole.length - password.length - 1)}***@`)
    .replace(USERINFO, (whole, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      const masked =
        colon < 0
          ? tokenLike(userinfo)
            ? '***'
            : userinfo
          : `${userinfo.slice(0, colon)}:${colon === userinfo.length - 1 ? '' : '***'}`;
      return whole.slice(0, whole.length - userinfo.length - 1) + masked + '@';
    })
    .replace(QUERY_PARAM, (whole, lead: string, name: string, value: string) =>
      value && SECRET_NAME.test(decoded(name)) ? `${lead}${name}=***` : whole,
    )
    .replace(CONNINFO_SECRET, (whole, lead: string, name: string, value: string) =>
      value ? `${lead}${name}=***` : whole,
    );
}

/** Replaces every occurrence of each secret (and its URI-encoded form) in `text` with ***. */
export function scrubSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const forms = new Set<string>();
  for (const secret of secrets) {
    // Shorter values are masked by the runner in the log; replacing them in our own texts would garble them.
    if (!secret || secret.length < 3) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('***');
  return out;
}

/** A connection URL with its credentials replaced, for logs and summaries. Non-URLs come back unchanged. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

/** The password of a connection URL (decoded), so callers can mask it and scrub error texts. */
export function urlPassword(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    return undefined;
  }
}

// ---------- the process-wide secret registry ----------

// Every value an input reader masked (core.setSecret) is registered here too, so messages built anywhere — an
// InputError from a parser that quotes what it refused, a failure message — are scrubbed before they are printed.
// The runner masks the log, but not what a step writes to its outputs or summary, and the CLI has no runner at all.
const registered = new Set<string>();

/** Registers values to scrub from every InputError and failure message (see scrubRegistered). */
export function registerSecrets(values: Iterable<string>): void {
  for (const v of values) if (v) registered.add(v);
}

export function scrubRegistered(text: string): string {
  return registered.size ? scrubSecrets(text, registered) : text;
}

// ---------- quoting values into messages ----------

// The runner reads a step's output line by line (a line ends at CR, LF or CRLF) and treats a line starting with `::`
// as a workflow command (actions/runner src/Runner.Worker/ActionCommandManager.cs). A value quoted into a message must
// therefore never carry a line break: escaped the way the runner escapes command data (actions/toolkit
// packages/core/src/command.ts escapeData: % → %25, CR → %0D, LF → %0A), it stays on its line and reads back unambiguously.
const LINE_BREAK = /[\r\n]/;

/** Escapes %, CR and LF as the runner's command escaping does, when the text has a line break (else unchanged). */
export function escapeLineBreaks(text: string): string {
  if (!LINE_BREAK.test(text)) return text;
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function hasLineBreak(text: string): boolean {
  return LINE_BREAK.test(text);
}

/** Longest stretch of a value shown in a message; the rest is summarised by its length. */
export const QUOTE_MAX = 120;

/**
 * A value as quoted into a message: secret parts and registered secrets masked, line breaks escaped, cut at
 * QUOTE_MAX characters — `'https://user:***@host/health'`. The one way inputs are echoed.
 */
export function quoteValue(value: string, max = QUOTE_MAX): string {
  const shown = escapeLineBreaks(scrubRegistered(redactSecrets(value)));
  const chars = [...shown];
  return chars.length > max ? `'${chars.slice(0, max).join('')}…' (${chars.length} characters)` : `'${shown}'`;
}
