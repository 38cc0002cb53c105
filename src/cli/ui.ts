// Terminal output for the CLI: colours only on a TTY (NO_COLOR wins, FORCE_COLOR forces), a live status line on a
// TTY and plain periodic lines otherwise (CI logs, pipes), and aligned plain-text tables.
import { formatDuration } from '../core/duration.js';

type Stream = NodeJS.WriteStream;

export interface Palette {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function colorEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env, noColorFlag = false): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false')
    return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function palette(enabled: boolean): Palette {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** Visible width (ANSI escapes do not count). */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\u001b\[[0-9;]*m/g, '')].length;
}

/** Plain-text table with aligned columns; the header row is bold when colours are on. */
export function table(rows: string[][], c: Palette): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) => Math.max(...rows.map((r) => width(r[i] ?? ''))));
  return rows
    .map((r, ri) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] as number) - width(cell))))
        .map((cell) => (ri === 0 ? c.bold(cell) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Progress while waiting. On a TTY: one status line redrawn in place (spinner, text, elapsed), cleared before any
 * log line. Elsewhere: the text is printed when it changes and at most every `plainEveryMs` otherwise, so CI logs
 * show that something is still happening without flooding.
 */
export class Progress {
  private readonly stream: Stream;
  private readonly tty: boolean;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private drawn = false;
  private lastPlain = '';
  private lastPlainAt = 0;

  constructor(
    private readonly render: () => string,
    opts: { stream?: Stream; tty?: boolean; plainEveryMs?: number; tickMs?: number } = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    const plainEveryMs = opts.plainEveryMs ?? 15_000;
    this.timer = setInterval(() => this.tick(plainEveryMs), opts.tickMs ?? (this.tty ? 100 : 1000));
    this.timer.unref();
  }

  get elapsed(): string {
    return formatDuration(Date.now() - this.startedAt);
  }

  private tick(plainEveryMs: number): void {
    const text = this.render();
    if (!text) return;
    if (this.tty) {
      const line = `${SPINNER[this.frame++ % SPINNER.length]} ${text} (${this.elapsed})`;
      const columns = this.stream.columns || 120;
      this.stream.write(`\r\u001b[2K${[...line].slice(0, columns - 1).join('')}`);
      this.drawn = true;
    } else if (text !== this.lastPlain || Date.now() - this.lastPlainAt >= plainEveryMs) {
      this.stream.write(`… ${text} (${this.elapsed})\n`);
      this.lastPlain = text;
      this.lastPlainAt = Date.now();
    }
  }

  /** Prints a log line above the status line. */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
  }

  private clear(): void {
    if (this.tty && this.drawn) {
      this.stream.write('\r\u001b[2K');
      this.drawn = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
