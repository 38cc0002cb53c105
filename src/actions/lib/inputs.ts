// Typed input readers on top of @actions/core: every bad value becomes one InputError naming the input.
import * as core from '@actions/core';
import { InputError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { urlPassword } from '../../core/redact.js';
import { parseDatabaseUrl } from '../../core/database-url.js';

export function stringInput(name: string, opts: { required?: boolean; fallback?: string } = {}): string {
  const value = core.getInput(name);
  if (value === '') {
    if (opts.required) throw new InputError(name, 'is required but was empty or not given');
    return opts.fallback ?? '';
  }
  return value;
}

export function secretInput(name: string, opts: { required?: boolean } = {}): string {
  const value = core.getInput(name);
  if (value) core.setSecret(value);
  if (!value && opts.required) throw new InputError(name, 'is required but was empty (is the secret set for this repository/environment?)');
  return value;
}

export function booleanInput(name: string, fallback: boolean): boolean {
  const value = core.getInput(name).trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError(name, `expected true or false, got '${core.getInput(name).trim()}'`);
}

export function durationInput(name: string, fallback: string, opts: { allowZero?: boolean } = {}): number {
  const raw = core.getInput(name);
  return parseDuration(raw === '' ? fallback : raw, name, opts);
}

export function integerInput(name: string, fallback: number, opts: { min?: number; max?: number } = {}): number {
  const raw = core.getInput(name).trim();
  if (raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new InputError(name, `expected a whole number, got '${raw}'`);
  const n = Number(raw);
  if (opts.min !== undefined && n < opts.min) throw new InputError(name, `must be at least ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new InputError(name, `must be at most ${opts.max}, got ${n}`);
  return n;
}

export function choiceInput<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const raw = core.getInput(name).trim();
  if (raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new InputError(name, `expected one of ${choices.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

export function urlInput(name: string, opts: { required?: boolean; fallback?: string; protocols?: string[] } = {}): string {
  const raw = core.getInput(name).trim() || opts.fallback || '';
  if (raw === '') {
    if (opts.required) throw new InputError(name, 'is required but was empty or not given');
    return '';
  }
  const protocols = opts.protocols ?? ['http:', 'https:'];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(name, `expected an absolute URL (${protocols.join(' or ')}//…), got '${raw}'`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new InputError(name, `expected a ${protocols.join(' or ')} URL, got '${url.protocol}'`);
  }
  return url.toString();
}

/** Newline- or comma-separated list, blanks dropped. */
export function listInput(name: string): string[] {
  return core
    .getInput(name)
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A PostgreSQL URL input: the URL and its password (plain and URI-encoded) are masked before anything is validated,
 * so not even an input error can print them. Empty and not required → undefined.
 */
export function databaseUrlInput(name: string, opts: { required?: boolean } = {}): { url: string; secrets: string[] } | undefined {
  const raw = secretInput(name, opts);
  if (!raw) return undefined;
  const password = urlPassword(raw);
  if (password) {
    core.setSecret(password);
    core.setSecret(encodeURIComponent(password));
  }
  return parseDatabaseUrl(raw, name);
}
