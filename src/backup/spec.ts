// The restore spec (the restore action, `rail-actions restore`), read once from any InputSource so both front ends
// validate it with the same wording. The migrate step's backup options are read with it (src/migrations/spec.ts). Only
// light imports: the restore bundle must not carry the SQL parser (src/backup/take.ts does).
import { SELF_HOSTED_JOB_MAX_MS } from '../core/duration.js';
import { scrubSecrets } from '../core/redact.js';
import { optionDefault } from '../options/catalogue.js';
import { readDatabaseUrl, readDuration, readString } from '../options/readers.js';
import type { InputSource } from '../options/source.js';

export interface RestoreSpec {
  databaseUrl: string;
  secrets: string[];
  scrub: (text: string) => string;
  /** undefined: the newest backup neither restored nor expired (restoreBackup validates the id's form). */
  backupId?: string;
  lockWaitMs: number;
}

/** The restore action / `rail-actions restore`. lock-wait is bounded by the 5 days a self-hosted job may run. */
export function readRestoreSpec(src: InputSource): RestoreSpec {
  const { url, secrets } = readDatabaseUrl(src, 'database-url', { required: true })!;
  const backupId = readString(src, 'backup-id').trim() || undefined;
  const lockWaitMs = readDuration(src, 'lock-wait', optionDefault('lock-wait'), {
    allowZero: true,
    max: SELF_HOSTED_JOB_MAX_MS,
  });
  return {
    databaseUrl: url,
    secrets,
    scrub: (t) => scrubSecrets(t, secrets),
    ...(backupId ? { backupId } : {}),
    lockWaitMs,
  };
}
