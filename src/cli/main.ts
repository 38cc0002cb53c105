// rail-actions CLI: the same cores the actions run, from a terminal. Bundled to dist/cli/index.js (bin/rail-actions.mjs).
// First: lets the bundled libpg-query find its .wasm next to the bundle (see the module).
import '../migrations/analyze/wasm-dirname.js';
import { InputError, UserFacingError, errorMessage } from '../core/errors.js';
import { AbortedError } from '../core/retry.js';
import {
  EXIT_CODES_HELP,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_USAGE,
  UsageError,
  commandHelp,
  envNameFor,
  parseCommandArgs,
  type Values,
} from './args.js';
import { COMMANDS } from './commands/index.js';
import type { CliContext } from './context.js';
import { colorEnabled, palette } from './ui.js';

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  return [
    'Usage: rail-actions <command> [options]',
    '',
    'Run the rail-actions engine locally: the same code the GitHub Actions run.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    '',
    "Run 'rail-actions <command> --help' for a command's options. Every flag can also come from the environment as",
    `RAIL_ACTIONS_<FLAG> (e.g. ${envNameFor('railway-token')}); the Railway token also from $RAILWAY_TOKEN / $RAILWAY_API_TOKEN,`,
    'the database URL from $DATABASE_URL. Colours only on a terminal; NO_COLOR=1 or --no-color turns them off.',
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

/** `Input 'timeout': expected …` from a core → `--timeout: expected …` (or the env variable it came from). */
function describeInputError(err: InputError, values: Values | undefined, aliases: Record<string, string> = {}): string {
  const message = err.message.replace(/^Input '[^']*': /, '');
  const flag = aliases[err.input] ?? err.input;
  let origin = `--${flag}`;
  try {
    if (values) origin = values.origin(flag);
  } catch {
    // the core named an input this command has no flag for; keep the plain name
  }
  return `${origin}: ${message}`;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  const stderrColor = palette(colorEnabled(process.stderr, env, argv.includes('--no-color')));
  const fail = (code: number, message: string) => {
    process.stderr.write(`${stderrColor.red('error')}: ${message}\n`);
    return code;
  };
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0]) return main([rest[0], '--help'], env);
    process.stdout.write(`${topHelp()}\n`);
    return name ? 0 : EXIT_USAGE;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    const known = COMMANDS.map((c) => c.spec.name).join(', ');
    return fail(EXIT_USAGE, `unknown command '${name}' (commands: ${known}). Run 'rail-actions --help'.`);
  }

  let values: Values | undefined;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C means "now"
    process.stderr.write(
      `\n${stderrColor.yellow(`${sig}: stopping — reporting what was done so far (press Ctrl-C again to quit now)`)}\n`,
    );
    controller.abort(new AbortedError(`cancelled by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    values = parseCommandArgs(command.spec, rest, env);
    if (values.flag('help')) {
      process.stdout.write(`${commandHelp(command.spec)}\n`);
      return 0;
    }
    const noColor = values.flag('no-color');
    const ctx: CliContext = {
      out: process.stdout,
      err: process.stderr,
      color: palette(colorEnabled(process.stdout, env, noColor)),
      errColor: palette(colorEnabled(process.stderr, env, noColor)),
      env,
      signal: controller.signal,
      print: (line = '') => process.stdout.write(`${line}\n`),
      log: (line) => process.stderr.write(`${line}\n`),
    };
    return await command.run(values, ctx);
  } catch (err) {
    if (err instanceof UsageError) return fail(EXIT_USAGE, `${err.message}. Run 'rail-actions ${name} --help'.`);
    if (err instanceof InputError) return fail(EXIT_USAGE, describeInputError(err, values, command.spec.inputAliases));
    if (err instanceof AbortedError || controller.signal.aborted)
      return fail(EXIT_INTERRUPTED, `interrupted: ${errorMessage(err)}`);
    if (err instanceof UserFacingError) return fail(EXIT_FAILED, err.message);
    if (env.RAIL_ACTIONS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return fail(
      EXIT_FAILED,
      `unexpected error: ${errorMessage(err)}${env.RAIL_ACTIONS_DEBUG ? '' : ' (set RAIL_ACTIONS_DEBUG=1 for details)'}`,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// Exit explicitly (idle keep-alive sockets or a WebSocket client must not hold the process), after stdout drained.
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
