// How a backup is reported: one log line per fact and an HTML block for the step summary (which backup, its size and
// rows, what each piece holds, how to restore, when it expires). Pure: the actions print what this returns.
import { escapeHtml as esc } from '../core/text.js';
import { type BackupSummary, formatSize } from './store.js';
import { describePiece } from './restore.js';
import { restoreUsage } from './take.js';

export function backupLines(b: BackupSummary): string[] {
  const usage = restoreUsage(b.id);
  return [
    `Backup ${b.id}: ${b.pieces.length} piece(s), ${b.rows} row(s), ${formatSize(b.bytes)} in schema rail_actions_backup of this database; kept until ${b.expiresAt.toISOString()}`,
    ...b.pieces.map(
      (p) =>
        `  piece ${p.piece}: ${describePiece(p)} by ${p.migrationFile}${p.statementLine ? `:${p.statementLine}` : ''} — ${p.rows} row(s), ${formatSize(p.bytes)}${p.notes.length ? ` (${p.notes.join('; ')})` : ''}`,
    ),
    `To undo: ${usage.command}  (or the actions/restore action with backup-id: ${b.id})`,
  ];
}

export function backupSummaryHtml(b: BackupSummary): string {
  const usage = restoreUsage(b.id);
  const rows = b.pieces
    .map(
      (p) =>
        `<tr><td>${p.piece}</td><td>${esc(describePiece(p))}</td><td><code>${esc(p.migrationFile)}${p.statementLine ? `:${p.statementLine}` : ''}</code></td><td>${p.rows}</td><td>${formatSize(p.bytes)}</td><td>${esc(p.notes.join('; ')) || '—'}</td></tr>`,
    )
    .join('');
  return [
    `<h3>Backup <code>${b.id}</code></h3>`,
    `<p>Before the destructive statements ran, what they destroy was copied into schema <code>rail_actions_backup</code> of this database (in the same transaction as each statement): ${b.pieces.length} piece(s), ${b.rows} row(s), ${formatSize(b.bytes)}. Kept until <strong>${b.expiresAt.toISOString()}</strong> (backup-retention); the next migrate run after that drops it.</p>`,
    `<table><tr><th>#</th><th>Holds</th><th>Statement</th><th>Rows</th><th>Size</th><th>Notes</th></tr>${rows}</table>`,
    `<p>To undo: <code>${esc(usage.command)}</code>, or the <code>actions/restore</code> action with <code>backup-id: ${b.id}</code>.</p>`,
  ].join('\n');
}
