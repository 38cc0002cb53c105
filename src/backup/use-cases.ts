// The restore use case, called by the restore action and `rail-actions restore` (the migrations family's other use
// cases are src/migrations/use-cases.ts; this one stays apart so the restore bundle does not carry the SQL parser).
import { restoreBackup, type RestoreResult } from './restore.js';
import type { RestoreSpec } from './spec.js';

/** How the use case talks while it runs; messages are scrubbed of the spec's secrets before they get here. */
export interface RestoreIo {
  log(message: string): void;
  warn(message: string): void;
  signal?: AbortSignal;
}

/** Puts back what a backup holds (src/backup/restore.ts); a second run changes nothing and says so. */
export async function runRestore(spec: RestoreSpec, io: RestoreIo): Promise<RestoreResult> {
  return restoreBackup({
    databaseUrl: spec.databaseUrl,
    ...(spec.backupId ? { backupId: spec.backupId } : {}),
    lockWaitMs: spec.lockWaitMs,
    ...(io.signal ? { signal: io.signal } : {}),
    log: (m) => io.log(spec.scrub(m)),
    warn: (m) => io.warn(spec.scrub(m)),
  });
}
