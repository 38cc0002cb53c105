import { InputError } from './errors.js';
import { quoteValue } from './redact.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SEGMENT = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
const DAY_MS = 86_400_000;

/**
 * The longest duration any input may have: Node turns a timer delay above 2^31-1 ms into 1 ms (Node.js docs,
 * setTimeout: "When delay is larger than 2147483647 or less than 1, the delay will be set to 1"), so `600h` would
 * make a timeout fire at once or a poll loop spin. Inputs with a tighter natural bound pass their own `max`; a duration
 * that never reaches a timer (a retention compared with timestamps) passes `timer: false` and its own `max`.
 */
export const MAX_DURATION_MS = 2_147_483_647;

/**
 * The natural bounds of the actions' duration inputs (each action.yml description states its own):
 * - a job on a GitHub-hosted runner runs at most 6 hours (GitHub docs "Usage limits", Job execution time), so no
 *   deploy, rollback or health-check step can usefully wait longer;
 * - a job on a self-hosted runner runs at most 5 days (docs "Usage limits for self-hosted runners"): the approval
 *   wait, which is worth stretching on a self-hosted runner, stops there;
 * - Node's fetch (undici) gives up on a response whose headers take longer than 300 s (undici Client option
 *   headersTimeout, default 300e3 ms), so a longer per-request timeout could never take effect.
 */
export const HOSTED_JOB_MAX_MS = 6 * 3_600_000;
export const SELF_HOSTED_JOB_MAX_MS = 5 * 24 * 3_600_000;
export const FETCH_HEADERS_MAX_MS = 300_000;

/**
 * The one duration parser for every action, the CLI and the cores: `250ms`, `30s`, `5m`, `1h`, `7d`, `1m30s`,
 * or a bare number of seconds (`90`, `0.5`). Returns milliseconds. `input` names the input in the error.
 */
export function parseDuration(
  value: string,
  input: string,
  opts: { allowZero?: boolean; min?: number; max?: number; timer?: boolean } = {},
): number {
  const text = value.trim().toLowerCase();
  const expected = 'a duration like 250ms, 30s, 5m, 1h, 7d (or a number of seconds)';
  if (text === '') throw new InputError(input, `expected ${expected}, got an empty value`);
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    ms = 0;
    SEGMENT.lastIndex = 0;
    let consumed = 0;
    for (let m = SEGMENT.exec(text); m; m = SEGMENT.exec(text)) {
      ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
      consumed = SEGMENT.lastIndex;
    }
    if (consumed !== text.length || consumed === 0) {
      const hint = text.startsWith('-') ? ' (it must not be negative)' : '';
      throw new InputError(input, `expected ${expected}, got ${quoteValue(value.trim())}${hint}`);
    }
  }
  ms = Math.round(ms);
  if (ms === 0 && !opts.allowZero)
    throw new InputError(input, `must be greater than zero, got ${quoteValue(value.trim())}`);
  const cap = opts.timer === false ? Number.MAX_SAFE_INTEGER : MAX_DURATION_MS;
  const max = Math.min(opts.max ?? cap, cap);
  if (!Number.isFinite(ms) || ms > max)
    throw new InputError(input, `must be at most ${formatDuration(max)}, got ${quoteValue(value.trim())}`);
  if (opts.min !== undefined && ms < opts.min && !(ms === 0 && opts.allowZero)) {
    throw new InputError(input, `must be at least ${formatDuration(opts.min)}, got ${quoteValue(value.trim())}`);
  }
  return ms;
}

/** Human form for logs and summaries: 850ms, 12.3s, 4m 05s, 6h 00m, 30d 00h (from 7 days on). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms >= 7 * DAY_MS) {
    const hours = Math.round(ms / 3_600_000);
    return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, '0')}h`;
  }
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s).padStart(2, '0')}s`;
}
