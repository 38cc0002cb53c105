import { InputError } from './errors.js';
import { hasLineBreak, quoteValue, secretParts } from './redact.js';

/**
 * Validates a PostgreSQL connection URL given as `input` and returns it trimmed, with the values to keep out of
 * every log: the URL itself and every secret part of it, wherever it sits — the userinfo password, and `password` /
 * `sslpassword` in the query string (libpq reads both there: PostgreSQL docs 32.1.1.2 "Connection URIs"). The parts
 * are found by pattern before the value is parsed, so a URL that does not parse is masked too. An error quotes the
 * value masked (a value without any recognisable part is masked whole by the caller's registration).
 */
export function parseDatabaseUrl(value: string, input: string): { url: string; secrets: string[] } {
  const url = value.trim();
  const secrets = [...new Set([url, ...secretParts(url)])].filter(Boolean);
  if (hasLineBreak(url)) throw new InputError(input, `must be one line, got ${quoteValue(url)}`);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && /^\s*[a-z_]+\s*=/i.test(url)) {
    // node-postgres and the migration tools read URLs only (pg-connection-string parses a URL, not conninfo).
    throw new InputError(
      input,
      `expected a postgres:// or postgresql:// URL, got a key=value connection string ${quoteValue(url)}: write it as postgres://user:password@host:5432/database`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(input, `expected a postgres:// or postgresql:// URL, got ${quoteValue(url)}`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InputError(input, `expected a postgres:// or postgresql:// URL, got a ${parsed.protocol} URL`);
  }
  return { url, secrets };
}
