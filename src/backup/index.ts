// Backups of what destructive migrations destroy, kept in the user's own database (schema rail_actions_backup), and
// their restore. Design and limits: docs/backups.md.
export { BACKUP_MODES, type BackupMode, type BackupOptions, MigrationBackup, restoreUsage } from './take.js';
export {
  type RestoreOptions,
  type RestoreResult,
  type RestoredPiece,
  describePiece,
  listBackups,
  readBackup,
  restoreBackup,
  targetColumns,
} from './restore.js';
export {
  BACKUP_SCHEMA,
  type BackupPiece,
  type BackupSummary,
  MANIFEST,
  formatSize,
  isBackupId,
  parseSize,
} from './store.js';
export { type Target, targetsOf } from './targets.js';
