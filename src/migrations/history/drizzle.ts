// Drizzle ORM 0.x (drizzle-kit migrate / migrate() from drizzle-orm/<driver>/migrator): `meta/_journal.json` lists
// entries {idx, when, tag, breakpoints}; SQL in `<tag>.sql`, split on `--> statement-breakpoint`. History in
// drizzle.__drizzle_migrations(id serial, hash text, created_at bigint): hash = sha256 hex of the file text,
// created_at = the journal `when`. Drizzle's own pending rule is a time watermark: entries with
// `when > max(created_at)` run, anything older that is missing is silently skipped forever — we flag that.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../../core/errors.js';
import type { Anomaly, AppliedRow, MigrationFile } from '../types.js';
import { type ToolAdapter, checksumVariants, isFile, readMigrationFile, sqlFile, tableExists } from './common.js';

const SCHEMA = 'drizzle';
const TABLE = '__drizzle_migrations';

interface JournalEntry {
  idx?: number;
  when: number;
  tag: string;
  breakpoints?: boolean;
}

async function readJournal(dir: string): Promise<JournalEntry[]> {
  const journalPath = path.join(dir, 'meta', '_journal.json');
  let raw: string;
  try {
    raw = await readFile(journalPath, 'utf8');
  } catch {
    throw new UserFacingError(
      `Drizzle journal ${journalPath} not found: is this a drizzle-kit migrations folder (the 'out' directory)?`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new UserFacingError(`Drizzle journal ${journalPath} is not valid JSON: ${(err as Error).message}`);
  }
  const entries = (parsed as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) throw new UserFacingError(`Drizzle journal ${journalPath} has no "entries" array`);
  return entries.map((e, i) => {
    const entry = e as Partial<JournalEntry>;
    if (typeof entry.tag !== 'string' || typeof entry.when !== 'number') {
      throw new UserFacingError(`Drizzle journal ${journalPath}: entry ${i} lacks a string "tag" and a numeric "when"`);
    }
    return entry as JournalEntry;
  });
}

const whenByPath = new Map<string, number>();

async function whenOf(file: MigrationFile): Promise<number> {
  const cached = whenByPath.get(file.path);
  if (cached !== undefined) return cached;
  const entry = (await readJournal(path.dirname(file.path))).find((e) => e.tag === file.id);
  if (!entry) throw new UserFacingError(`Drizzle journal has no entry for ${file.relPath}`);
  return entry.when;
}

export const drizzleAdapter: ToolAdapter = {
  tool: 'drizzle',
  defaultDirs: ['drizzle', 'migrations', 'src/db/migrations', 'db/migrations'],

  async listFiles(dir, cwd) {
    const files: MigrationFile[] = [];
    for (const entry of await readJournal(dir)) {
      const abs = path.join(dir, `${entry.tag}.sql`);
      if (!(await isFile(abs))) {
        throw new UserFacingError(`Drizzle journal lists ${entry.tag} but ${path.relative(cwd, abs)} does not exist`);
      }
      const read = await readMigrationFile(abs, cwd);
      whenByPath.set(abs, entry.when);
      files.push(sqlFile(entry.tag, read, read.text));
    }
    return files;
  },

  async readHistory(client) {
    if (!(await tableExists(client, SCHEMA, TABLE))) return { exists: false, rows: [] };
    const r = await client.query<{ hash: string; created_at: string | null }>(
      `SELECT hash, created_at::text AS created_at FROM "${SCHEMA}"."${TABLE}" ORDER BY created_at, id`,
    );
    // Rows carry no name: the id is filled in by diff() when a row matches a journal entry.
    const rows: AppliedRow[] = r.rows.map((row) => ({
      id: `created_at=${row.created_at ?? 'null'}`,
      checksum: row.hash,
      ...(row.created_at ? { appliedAt: new Date(Number(row.created_at)).toISOString() } : {}),
    }));
    return { exists: true, rows };
  },

  diff(files, history) {
    const anomalies: Anomaly[] = [];
    const whenOfFile = new Map(files.map((f) => [f, whenByPath.get(f.path) ?? NaN]));
    const watermark = history.rows.reduce((max, r) => {
      const at = Number(r.id.slice('created_at='.length));
      return Number.isFinite(at) && at > max ? at : max;
    }, -Infinity);
    const matched = new Set<MigrationFile>();
    for (const row of history.rows) {
      const at = Number(row.id.slice('created_at='.length));
      const byTime = files.find((f) => whenOfFile.get(f) === at);
      const byHash = files.find(
        (f) => f.sql !== undefined && row.checksum && checksumVariants(f.sql).has(row.checksum),
      );
      const file = byTime ?? byHash;
      if (!file) {
        anomalies.push({
          kind: 'missing-file',
          detail: `Drizzle history row ${row.id} (hash ${String(row.checksum).slice(0, 12)}…) matches no journal entry`,
        });
        continue;
      }
      row.id = file.id;
      matched.add(file);
      if (byTime && row.checksum && file.sql !== undefined && !checksumVariants(file.sql).has(row.checksum)) {
        anomalies.push({
          kind: 'checksum-drift',
          file: file.relPath,
          detail: `${file.relPath} was edited after it was applied (recorded hash ${row.checksum.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…)`,
        });
      }
    }
    const pending = files.filter((f) => !matched.has(f));
    for (const f of pending) {
      if ((whenOfFile.get(f) ?? NaN) <= watermark) {
        anomalies.push({
          kind: 'out-of-order',
          file: f.relPath,
          detail: `${f.relPath} is not applied but its journal time is older than the newest applied migration: drizzle's migrator would skip it forever`,
        });
      }
    }
    return { pending, anomalies };
  },

  lockAnomalies() {
    return Promise.resolve([]); // drizzle's migrator takes no lock
  },

  historyTable() {
    return Promise.resolve(`"${SCHEMA}"."${TABLE}"`);
  },

  async historyTables(client) {
    return (await tableExists(client, SCHEMA, TABLE)) ? [`"${SCHEMA}"."${TABLE}"`] : [];
  },

  async ensureHistoryTable(client) {
    // drizzle-orm pg-core dialect.migrate(): same statements, same order.
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${SCHEMA}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${SCHEMA}"."${TABLE}" (
			id SERIAL PRIMARY KEY,
			hash text NOT NULL,
			created_at bigint
		)`);
  },

  async record(client, file) {
    await client.query(`INSERT INTO "${SCHEMA}"."${TABLE}" ("hash", "created_at") VALUES ($1, $2)`, [
      file.checksum,
      await whenOf(file),
    ]);
  },
};
