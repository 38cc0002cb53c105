// restore action: puts back what the migrate action backed up before destructive statements. The restore is runRestore's
// (src/backup/use-cases.ts over src/backup/restore.ts), shared with `rail-actions restore`; this entry wires
// inputs → use case → outputs and summary.
import * as core from '@actions/core';
import { describePiece, type RestoreResult } from '../backup/restore.js';
import { readRestoreSpec } from '../backup/spec.js';
import { formatSize } from '../backup/store.js';
import { formatDuration } from '../core/duration.js';
import { redactUrl } from '../core/redact.js';
import { escapeHtml, headerRow } from '../core/text.js';
import { runRestore } from '../backup/use-cases.js';
import { coreSource } from './lib/inputs.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

export async function main(): Promise<void> {
  const spec = readRestoreSpec(coreSource);
  core.info(`Target ${redactUrl(spec.databaseUrl)}; backup ${spec.backupId ?? '(newest not yet restored)'}`);
  const result = await runRestore(spec, {
    log: (m) => core.info(m),
    warn: (m) => core.warning(m),
    signal: cancellationSignal(),
  });
  core.setOutput('backup-id', result.id);
  core.setOutput('result', result.status);
  core.setOutput('rows', String(result.pieces.reduce((a, p) => a + p.rows, 0)));
  core.setOutput(
    'pieces',
    JSON.stringify(
      result.pieces.map((p) => ({ piece: p.piece, kind: p.kind, table: p.table, columns: p.columns, rows: p.rows })),
    ),
  );
  for (const w of result.warnings) core.warning(spec.scrub(w));
  await writeSummary(result);
  core.info(
    result.status === 'restored'
      ? `Restored backup ${result.id} in ${formatDuration(result.ms)}.`
      : `Backup ${result.id} was already restored at ${result.restoredAt.toISOString()}; nothing changed.`,
  );
}

async function writeSummary(r: RestoreResult): Promise<void> {
  const title =
    r.status === 'restored'
      ? `✅ Restored backup ${r.id}`
      : `✅ Backup ${r.id} was already restored (${r.restoredAt.toISOString()}); nothing changed`;
  core.summary.addHeading(`Restore: ${title}`, 2);
  if (r.pieces.length) {
    core.summary.addTable([
      headerRow('#', 'Put back', 'Destroyed by', 'Rows'),
      ...r.pieces.map((p) => {
        const piece = r.backup.pieces.find((x) => x.piece === p.piece);
        return [
          String(p.piece),
          escapeHtml(piece ? describePiece(piece) : p.table),
          `<code>${escapeHtml(p.migrationFile)}${p.statementLine ? `:${p.statementLine}` : ''}</code>`,
          String(p.rows),
        ];
      }),
    ]);
    core.summary.addRaw(
      `<p>Backup size ${formatSize(r.backup.bytes)}; one transaction, ${formatDuration(r.ms)}. The copies stay in schema rail_actions_backup until ${r.backup.expiresAt.toISOString()}.</p>`,
      true,
    );
  }
  if (r.warnings.length)
    core.summary.addRaw(
      `<p><strong>Not restored / notes:</strong></p><ul>${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`,
      true,
    );
  await core.summary.write();
}

export async function run(): Promise<void> {
  await runAction(main);
}

await run();
