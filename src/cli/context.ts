// What every CLI command gets: output streams, colours, the cancellation signal and the environment.
import type { CommandSpec, Values } from './args.js';
import type { Palette } from './ui.js';

export interface CliContext {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  color: Palette;
  /** Colours for stderr (progress/log lines), decided separately: stdout may be piped while stderr is a TTY. */
  errColor: Palette;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C / SIGTERM: waits stop and the command reports what it did. */
  signal: AbortSignal;
  print(line?: string): void;
  log(line: string): void;
}

export interface Command {
  spec: CommandSpec;
  run(values: Values, ctx: CliContext): Promise<number>;
}
