// `rail-actions restore`: puts back what the migrate step backed up before destructive statements — the same use case
// (runRestore, src/backup/use-cases.ts) and option readers (readRestoreSpec) as the restore action. --list shows
// the backups in the database.
import { describePiece, formatSize, listBackups } from '../../backup/index.js';
import { readRestoreSpec } from '../../backup/spec.js';
import { formatDuration } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import { runRestore } from '../../backup/use-cases.js';
import { EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { DATABASE_EXTRAS, databaseFlags, databaseSource } from '../database.js';
import { jsonFlag } from '../options.js';
import { table } from '../ui.js';

const NAMES = ['database-url', 'backup-id', 'lock-wait'];

export const restoreCommand: Command = {
  spec: {
    name: 'restore',
    summary: 'Undo the data loss of a destructive migration from the backup migrate took (schema rail_actions_backup).',
    details:
      'Puts back a dropped table (rows, keys, indexes, foreign keys pointing at it), a dropped column with its values,\n' +
      "deleted or truncated rows, overwritten values, or a column's old type — in one transaction, under the migration\n" +
      'lock. A second run changes nothing. Without --backup-id the newest backup not yet restored is used.',
    ...databaseFlags(
      'cli:restore',
      NAMES,
      {
        ...DATABASE_EXTRAS,
        'database-url': {
          description:
            'database migrate backed up (never printed). Prefer the env variable: flags show up in shell history.',
          required: true,
        },
        'backup-id': { description: 'Default: the newest backup neither restored nor expired.' },
      },
      [{ name: 'list', type: 'boolean', description: 'List the backups in the database and exit.' }, jsonFlag()],
    ),
    examples: [
      'DATABASE_URL=postgres://… rail-actions restore --backup-id b20260101t120000_ab12',
      'rail-actions restore --list',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    const spec = readRestoreSpec(databaseSource(v, 'cli:restore', NAMES));
    const { databaseUrl: url, scrub } = spec;
    const json = v.flag('json');
    const c = ctx.color;
    if (v.flag('list')) {
      const all = await listBackups(url);
      if (json) ctx.print(JSON.stringify(all, null, 2));
      else if (!all.length) ctx.print('no backups in this database');
      else
        ctx.print(
          table(
            [
              ['BACKUP', 'STATUS', 'CREATED', 'EXPIRES', 'ROWS', 'SIZE', 'HOLDS'],
              ...all.map((b) => [
                b.id,
                b.status,
                b.createdAt.toISOString(),
                b.expiresAt.toISOString(),
                String(b.rows),
                formatSize(b.bytes),
                b.pieces.map(describePiece).join('; '),
              ]),
            ],
            c,
          ),
        );
      return EXIT_OK;
    }
    if (!json) ctx.log(c.dim(`Target ${redactUrl(url)}`));
    const r = await runRestore(spec, {
      log: (m) => {
        if (!json) ctx.log(c.dim(m));
      },
      warn: (m) => {
        if (!json) ctx.log(c.yellow(m));
      },
      signal: ctx.signal,
    });
    if (json) {
      ctx.print(
        JSON.stringify(
          { id: r.id, result: r.status, pieces: r.pieces, warnings: r.warnings.map(scrub), ms: r.ms },
          null,
          2,
        ),
      );
      return EXIT_OK;
    }
    ctx.print(
      r.status === 'restored'
        ? c.green(c.bold(`✔ restored backup ${r.id} in ${formatDuration(r.ms)}`))
        : c.green(c.bold(`✔ backup ${r.id} was already restored at ${r.restoredAt.toISOString()}; nothing changed`)),
    );
    if (r.pieces.length)
      ctx.print(
        table(
          [
            ['PIECE', 'PUT BACK', 'ROWS'],
            ...r.pieces.map((p) => [
              String(p.piece),
              `${p.kind} ${p.table}${p.columns.length && p.kind !== 'drop-table' && p.kind !== 'rows' ? `.${p.columns.join(',')}` : ''}`,
              String(p.rows),
            ]),
          ],
          c,
        ),
      );
    for (const w of r.warnings) ctx.print(c.yellow(`note: ${scrub(w)}`));
    return EXIT_OK;
  },
};
