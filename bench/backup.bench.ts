// Backups of destructive migrations (src/backup) on 100,000 rows with a vector(3) column and an HNSW index: what a
// backup adds to the migration, its size, and how long the restore takes. Prints `BENCH <name> <value> <unit>`;
// asserts nothing about speed (it fails only if a restore does not give back the same rows).
//
// Figures (one run each, on a fresh copy of the table):
//   backup.drop-column.{plain,with-backup}  applying ALTER TABLE docs DROP COLUMN embedding without / with the backup
//   backup.drop-column.size / .restore      the copy (key + vector column) and restoring it (column, values, HNSW index)
//   backup.drop-table.{plain,with-backup}   DROP TABLE docs without / with the backup (copy of every column)
//   backup.drop-table.size / .restore       the copy, and re-creating the table with rows, keys, index
//   backup.table.size                        pg_total_relation_size of the source table, for scale
//   backup.hnsw-index.build                  building its HNSW index once (part of both restores)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const { MigrationBackup, restoreBackup } = await import('../src/backup/index.js');
const { readPieces } = await import('../src/backup/store.js');
const { applyMigrations } = await import('../src/migrations/runner/apply.js');
const { createTestDatabase } = await import('../test/helpers/db.js');

const ROWS = 100_000;

function bench(name: string, value: number, unit: string): void {
  console.log(`BENCH ${name} ${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`);
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/** Returns how long the HNSW index took to build: the restore re-creates it, and it dominates the restore time. */
async function seed(url: string): Promise<number> {
  await query(
    url,
    `CREATE TABLE docs (id bigserial PRIMARY KEY, title text NOT NULL, body text, embedding vector(3), created_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO docs (title, body, embedding)
       SELECT 'doc ' || i, repeat('lorem ipsum ', 1 + i % 20), ('[' || (i % 97) || ',' || (i % 13) || ',' || (i * 0.001) || ']')::vector(3)
         FROM generate_series(1, ${ROWS}) i;`,
  );
  const t0 = performance.now();
  await query(url, 'CREATE INDEX docs_embedding_hnsw ON docs USING hnsw (embedding vector_l2_ops); ANALYZE docs;');
  return performance.now() - t0;
}

const checksum = async (url: string) =>
  (
    await query<{ s: string }>(
      url,
      "SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) AS s FROM (SELECT id, title, body, embedding, created_at FROM docs) x",
    )
  )[0]?.s;

const tmp = await mkdtemp(path.join(os.tmpdir(), 'rail-backup-bench-'));
async function run(name: string, statement: string): Promise<void> {
  const dbs = [await createTestDatabase('bench_backup'), await createTestDatabase('bench_backup')];
  try {
    const indexMs = [await seed(dbs[0]!.url), await seed(dbs[1]!.url)];
    if (name === 'drop-column') bench('backup.hnsw-index.build', Math.min(...indexMs), 'ms');
    if (name === 'drop-column')
      bench(
        'backup.table.size',
        Number((await query<{ b: string }>(dbs[0]!.url, "SELECT pg_total_relation_size('docs') AS b"))[0]?.b) /
          1024 ** 2,
        'MB',
      );
    const cwd = path.join(tmp, name);
    await mkdir(path.join(cwd, 'migrations'), { recursive: true });
    await writeFile(path.join(cwd, 'migrations', '001.sql'), `${statement}\n`);
    const opts = {
      cwd,
      dir: 'migrations',
      tool: 'sql' as const,
      lockTimeoutMs: 5000,
      statementTimeoutMs: 0,
      lockWaitMs: 10_000,
      maxRetries: 0,
    };

    let t0 = performance.now();
    await applyMigrations({ ...opts, databaseUrl: dbs[0]!.url });
    bench(`backup.${name}.plain`, performance.now() - t0, 'ms');

    const before = await checksum(dbs[1]!.url);
    const backup = new MigrationBackup({ maxBytes: 0, retentionMs: 3_600_000 });
    t0 = performance.now();
    await applyMigrations({ ...opts, databaseUrl: dbs[1]!.url, backup });
    bench(`backup.${name}.with-backup`, performance.now() - t0, 'ms');
    const c = new pg.Client({ connectionString: dbs[1]!.url });
    await c.connect();
    const pieces = await readPieces(c, backup.id);
    await c.end();
    bench(`backup.${name}.size`, pieces.reduce((a, p) => a + p.bytes, 0) / 1024 ** 2, 'MB');
    t0 = performance.now();
    await restoreBackup({ databaseUrl: dbs[1]!.url, backupId: backup.id, lockWaitMs: 1000 });
    bench(`backup.${name}.restore`, performance.now() - t0, 'ms');
    if ((await checksum(dbs[1]!.url)) !== before)
      throw new Error(`${name}: the restored rows differ from the rows before the migration`);
  } finally {
    for (const db of dbs) await db.drop();
  }
}

try {
  await run('drop-column', 'ALTER TABLE docs DROP COLUMN embedding;');
  await run('drop-table', 'DROP TABLE docs;');
} finally {
  await rm(tmp, { recursive: true, force: true });
}
