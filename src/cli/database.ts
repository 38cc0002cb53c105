// Database flags shared by plan/migrate/restore: the catalogued options of the migrate-gate/migrate/restore actions
// (src/options/catalogue.ts; --tool and --dir are the CLI's names for migrations-tool and migrations-dir), read with
// the same read…Spec() functions as the actions (src/migrations/spec.ts, src/backup/spec.ts).
import { InputError } from '../core/errors.js';
import type { Place } from '../options/catalogue.js';
import type { InputSource } from '../options/source.js';
import type { OptionSpec, Values } from './args.js';
import { cliSource, flagNames } from './options.js';

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
