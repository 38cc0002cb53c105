// The actions' input readers: the typed readers of src/options/readers.ts over @actions/core (coreSource). Every bad
// value becomes one InputError naming the input and quoting the value masked and on one line (quoteValue); every
// reader masks the value's secret parts (secretParts: URL passwords, credential query parameters, conninfo passwords)
// BEFORE anything parses it.
import * as core from '@actions/core';
import { registerSecrets } from '../../core/redact.js';
import type { InputSource } from '../../options/source.js';
import {
  readBoolean,
  readChoice,
  readDatabaseUrl,
  readDirectory,
  readDuration,
  readInteger,
  readList,
  readRaw,
  readSecret,
  readString,
  readToken,
  readUrl,
  notLongerThan as notLongerThanIn,
} from '../../options/readers.js';

export { oneLine, sendableHeaders, tokenProblem } from '../../options/readers.js';

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

/** The step's inputs (core.getInput trims them, as the runner passes them), masking through the runner. */
export const coreSource: InputSource = { get: (name) => core.getInput(name), mask };

/** The raw (trimmed) value of an input, its secret parts masked before anything else sees it. */
export const readInput = (name: string): string => readRaw(coreSource, name);
export const stringInput = (
  name: string,
  opts: { required?: boolean; fallback?: string; multiline?: boolean } = {},
): string => readString(coreSource, name, opts);
/** A secret (masked whole, never quoted back). */
export const secretInput = (name: string, opts: { required?: boolean } = {}): string =>
  readSecret(coreSource, name, opts);
/** A token sent in an HTTP header (GitHub, Railway): masked whole, checked by tokenProblem. */
export const tokenInput = (name: string, opts: { required?: boolean } = {}): string =>
  readToken(coreSource, name, opts);
export const booleanInput = (name: string, fallback: boolean): boolean => readBoolean(coreSource, name, fallback);
/** A duration input (parseDuration); min/max are its natural bounds, stated in its action.yml description. */
export const durationInput = (
  name: string,
  fallback: string,
  opts: { allowZero?: boolean; min?: number; max?: number } = {},
): number => readDuration(coreSource, name, fallback, opts);
export const notLongerThan = (name: string, ms: number, limitName: string, limitMs: number): void =>
  notLongerThanIn(coreSource, name, ms, limitName, limitMs);
export const integerInput = (name: string, fallback: number, opts: { min?: number; max?: number } = {}): number =>
  readInteger(coreSource, name, fallback, opts);
export const choiceInput = <T extends string>(name: string, choices: readonly T[], fallback: T): T =>
  readChoice(coreSource, name, choices, fallback);
export const urlInput = (name: string, opts: Parameters<typeof readUrl>[2] = {}): string =>
  readUrl(coreSource, name, opts);
/** A directory of the checkout, relative to GITHUB_WORKSPACE (absolute allowed), that must exist. */
export const directoryInput = (name: string, fallback = '.'): string =>
  readDirectory(coreSource, name, fallback, process.env['GITHUB_WORKSPACE'] || process.cwd());
/** Newline- or comma-separated list, blanks dropped. */
export const listInput = (name: string): string[] => readList(coreSource, name);
/** A PostgreSQL URL input, masked (URL and every secret part) before anything is validated. */
export const databaseUrlInput = (
  name: string,
  opts: { required?: boolean } = {},
): { url: string; secrets: string[] } | undefined => readDatabaseUrl(coreSource, name, opts);
