import { InputError } from './errors.js';
import { urlPassword } from './redact.js';

/**
 * Validates a PostgreSQL connection URL given as `input` and returns it trimmed, with the values to keep out of
 * every log (the URL and its password). The error never repeats the value: it may hold a password.
 */
export function parseDatabaseUrl(value: string, input: string): { url: string; secrets: string[] } {
  const url = value.trim();
  const secrets = [url, urlPassword(url)].filter((s): s is string => !!s);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(input, 'expected a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new InputError(input, `expected a postgres:// or postgresql:// URL, got a ${parsed.protocol} URL`);
  }
  return { url, secrets };
}
