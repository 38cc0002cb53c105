// Database flags shared by plan/migrate/restore: the catalogued options of the migrate-gate/migrate/restore actions
// (src/options/catalogue.ts; --tool and --dir are the CLI's names for migrations-tool and migrations-dir), read with
// the same read…Spec() functions as the actions (src/migrations/spec.ts, src/backup/spec.ts).
import { InputError } from '../core/errors.js';
import type { ReadOptions } from '../migrations/spec.js';
import type { Place } from '../options/catalogue.js';
import type { InputSource } from '../options/source.js';
import type { CommandSpec, OptionSpec, Values } from './args.js';
import type { CliContext } from './context.js';
import { catalogueFlags, cliSource, flagNames } from './options.js';
import { Progress } from './ui.js';

export const DATABASE_NAMES = ['database-url', 'migrations-tool', 'migrations-dir', 'working-directory'];

/** What the CLI adds to the catalogued help (the catalogue holds the part every action.yml description shares). */
export const DATABASE_EXTRAS: Record<string, Partial<OptionSpec>> = {
  'database-url': {
    description: 'target database (never printed). Prefer the env variable: flags show up in shell history.',
    required: true,
  },
  'migrations-tool': {
    description: '(detect from the project), prisma, drizzle, knex, node-pg-migrate, golang-migrate, dbmate or sql.',
  },
  'working-directory': { description: '(in a terminal: the current directory); it must exist.' },
  'rehearsal-database-url': {
    description: 'Needs pg_dump/psql on PATH and CREATEDB there; production is only touched if the rehearsal passed.',
  },
  'lock-wait': { description: 'another migration holds the rail-actions lock (0 = do not wait).' },
};

/**
 * The parsed flags as the InputSource the specs read, each catalogued option under its input name. The database URL
 * is required here, saying how a terminal gives it.
 */
export function databaseSource(v: Values, place: Place, names: string[]): InputSource {
  if (!v.given('database-url'))
    throw new InputError('database-url', 'is required: pass --database-url or set $DATABASE_URL');
  const aliases = Object.fromEntries(Object.entries(flagNames(place, names)).map(([input, flag]) => [input, [flag]]));
  return cliSource(v, aliases);
}

/**
 * A migrations command's spec, read by the action's own reader (readGateSpec, readMigrateSpec) so every flag is
 * validated before the first connection; working-directory is relative to the current directory.
 */
export function readMigrationsSpec<T>(
  v: Values,
  place: Place,
  names: string[],
  read: (src: InputSource, opts: ReadOptions) => T,
): T {
  return read(databaseSource(v, place, names), { base: process.cwd() });
}

/**
 * A database command's flags: the catalogued options at `place` (amended by `extras`), then `more`; with the input →
 * flag names of the same options, so an error from a shared reader names the flag the user typed.
 */
export function databaseFlags(
  place: Place,
  names: string[],
  extras: Record<string, Partial<OptionSpec>>,
  more: OptionSpec[],
): Pick<CommandSpec, 'options' | 'inputAliases'> {
  return { options: [...catalogueFlags(place, names, extras), ...more], inputAliases: flagNames(place, names) };
}

/** Progress of database work on stderr; in a CI log the line repeats every 30 s (migrations and scans can be long). */
export function databaseProgress(ctx: CliContext, text: () => string): Progress {
  return new Progress(text, { stream: ctx.err, plainEveryMs: 30_000 });
}

/**
 * How plan and migrate start: the spec read by the action's reader (every flag checked before a connection), --json,
 * and the progress line showing `status`.
 */
export function startMigrationsCommand<T>(
  v: Values,
  ctx: CliContext,
  place: Place,
  names: string[],
  read: (src: InputSource, opts: ReadOptions) => T,
  status: () => string,
): { spec: T; json: boolean; progress: Progress } {
  const spec = readMigrationsSpec(v, place, names, read);
  return { spec, json: v.flag('json'), progress: databaseProgress(ctx, status) };
}
