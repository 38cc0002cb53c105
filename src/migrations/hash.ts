// The one place that hashes migration content: per-file checksums and the plan hash that ties the migrate-gate's
// approval to what the migrate action applies.
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Content hash of an ordered list of pending migrations: sha256 over each file's id and the sha256 of its contents
 * (MigrationFile.checksum is always that for our adapters), in apply order. Any added, removed, reordered or edited
 * file changes it. The gate publishes it as `plan-hash`; the migrate action recomputes it and refuses a mismatch.
 */
export function planHash(files: ReadonlyArray<{ id: string; checksum: string }>): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.id}\n${f.checksum}\n`);
  return h.digest('hex');
}
