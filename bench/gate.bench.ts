// Gate time against a live database with a long history: 200 applied + 5 pending Prisma migrations (realistic
// schema: tables with pgvector columns, indexes, foreign keys). Prints `BENCH <name> <value> <unit>`; asserts nothing.
//
// Figures:
//   migrate.apply.history       applying the 200 historical migrations with the rail-actions runner (setup, one run)
//   gate.pending.cold/median    findPending (connect, history read, checksum diff of 205 files, lock probes);
//                               cold = first call, median of 10 later calls
//   gate.total.cold/median      runGate = findPending + libpg-query analysis of the 5 pending files + table-size
//                               weighing + plan (median of 5), with its internal split
//   migrate.apply.pending       applying the 5 pending migrations (one run, includes a CREATE INDEX CONCURRENTLY)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const { findPending } = await import('../src/migrations/pending.js');
const { applyMigrations } = await import('../src/migrations/runner/apply.js');
const { createTestDatabase } = await import('../test/helpers/db.js');

const HISTORY = 200;
const PENDING = 5;

function bench(name: string, value: number, unit: string): void {
  console.log(`BENCH ${name} ${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function migrationName(i: number): string {
  // 2024-01-01 plus i hours, formatted like Prisma's folder names.
  const d = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000);
  const stamp = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}_step_${String(i).padStart(3, '0')}`;
}

function historicalSql(i: number): string {
  const parts = [
    `-- CreateTable\nCREATE TABLE "Entity${i}" (\n    "id" SERIAL NOT NULL,\n    "name" TEXT NOT NULL,\n    "embedding" vector(3),\n    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n${i > 0 ? `    "parentId" INTEGER,\n` : ''}\n    CONSTRAINT "Entity${i}_pkey" PRIMARY KEY ("id")\n);`,
    `-- CreateIndex\nCREATE INDEX "Entity${i}_name_idx" ON "Entity${i}"("name");`,
  ];
  if (i > 0)
    parts.push(
      `-- AddForeignKey\nALTER TABLE "Entity${i}" ADD CONSTRAINT "Entity${i}_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Entity${i - 1}"("id") ON DELETE SET NULL ON UPDATE CASCADE;`,
    );
  return `${parts.join('\n\n')}\n`;
}

const PENDING_SQL = [
  `-- AlterTable\nALTER TABLE "Entity10" ADD COLUMN "slug" TEXT;\n`,
  `-- CreateIndex\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "Entity20_embedding_idx" ON "Entity20" USING hnsw ("embedding" vector_l2_ops);\n`,
  `-- AlterTable\nALTER TABLE "Entity30" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'active';\n\n-- Backfill\nUPDATE "Entity30" SET "status" = 'archived' WHERE "createdAt" < now() - interval '1 year';\n`,
  `-- AlterTable\nALTER TABLE "Entity40" ALTER COLUMN "name" SET NOT NULL;\n\n-- RenameColumn\nALTER TABLE "Entity41" RENAME COLUMN "name" TO "title";\n`,
  `-- CreateTable\nCREATE TABLE "AuditLog" (\n    "id" BIGSERIAL NOT NULL,\n    "entity" TEXT NOT NULL,\n    "payload" JSONB NOT NULL,\n    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")\n);\n`,
];

const repo = await mkdtemp(path.join(os.tmpdir(), 'rail-gate-bench-'));
const migrations = path.join(repo, 'prisma', 'migrations');
await mkdir(migrations, { recursive: true });
await writeFile(path.join(migrations, 'migration_lock.toml'), 'provider = "postgresql"\n');
await writeFile(
  path.join(repo, 'package.json'),
  JSON.stringify({ name: 'bench-app', devDependencies: { prisma: '^6.2.1' } }),
);
async function writeMigration(i: number, sql: string): Promise<void> {
  await mkdir(path.join(migrations, migrationName(i)), { recursive: true });
  await writeFile(path.join(migrations, migrationName(i), 'migration.sql'), sql);
}
for (let i = 0; i < HISTORY; i++) await writeMigration(i, historicalSql(i));
await writeMigration(-1, '-- CreateExtension\nCREATE EXTENSION IF NOT EXISTS "vector";\n'); // sorts first

const db = await createTestDatabase('bench_gate');
const common = {
  databaseUrl: db.url,
  dir: '',
  tool: 'auto' as const,
  cwd: repo,
  lockTimeoutMs: 5000,
  statementTimeoutMs: 600_000,
  lockWaitMs: 60_000,
  maxRetries: 3,
};
try {
  let t = performance.now();
  const history = await applyMigrations(common);
  bench(
    'migrate.apply.history',
    Math.round(performance.now() - t),
    `ms (${history.applied.length} files, ${history.applied.reduce((n, a) => n + (a.statements ?? 0), 0)} statements)`,
  );

  for (let k = 0; k < PENDING; k++) await writeMigration(HISTORY + k, PENDING_SQL[k] as string);

  t = performance.now();
  const cold = await findPending({ databaseUrl: db.url, dir: '', cwd: repo });
  bench(
    'gate.pending.cold',
    Math.round(performance.now() - t),
    `ms (${cold.files.length} files, ${cold.applied.length} applied, ${cold.pending.length} pending)`,
  );
  if (cold.pending.length !== PENDING || cold.anomalies.length)
    throw new Error(`unexpected pending report: ${cold.pending.length} pending, ${JSON.stringify(cold.anomalies)}`);
  const runs: number[] = [];
  for (let r = 0; r < 10; r++) {
    t = performance.now();
    await findPending({ databaseUrl: db.url, dir: '', cwd: repo });
    runs.push(performance.now() - t);
  }
  bench('gate.pending.median', median(runs), 'ms (findPending, 10 runs)');

  let gate: typeof import('../src/migrations/gate.js') | undefined;
  try {
    gate = await import('../src/migrations/gate.js');
  } catch (err) {
    console.log(`(runGate not available, analysis figures skipped: ${String(err)})`);
  }
  if (gate) {
    const opts = {
      databaseUrl: db.url,
      dir: '',
      tool: 'auto' as const,
      cwd: repo,
      approval: 'risky' as const,
      largeTableRows: 100_000,
    };
    t = performance.now();
    const first = await gate.runGate(opts);
    bench(
      'gate.total.cold',
      Math.round(performance.now() - t),
      `ms (decision ${first.plan.decision}, includes parser start)`,
    );
    const totals: number[] = [];
    const parts = { pendingMs: [] as number[], analyzeMs: [] as number[], statsMs: [] as number[] };
    for (let r = 0; r < 5; r++) {
      t = performance.now();
      const res = await gate.runGate(opts);
      totals.push(performance.now() - t);
      parts.pendingMs.push(res.timings.pendingMs);
      parts.analyzeMs.push(res.timings.analyzeMs);
      parts.statsMs.push(res.timings.statsMs);
    }
    bench('gate.total.median', median(totals), 'ms (runGate: pending + analysis + table stats + plan, 5 runs)');
    bench('gate.part.pending.median', median(parts.pendingMs), 'ms');
    bench('gate.part.analyze.median', median(parts.analyzeMs), `ms (${first.plan.files?.length ?? PENDING} files)`);
    bench('gate.part.stats.median', median(parts.statsMs), 'ms');
  }

  t = performance.now();
  const applied = await applyMigrations(common);
  bench(
    'migrate.apply.pending',
    Math.round(performance.now() - t),
    `ms (${applied.applied.length} files incl. CREATE INDEX CONCURRENTLY, lock + history + record)`,
  );
} finally {
  await db.drop();
  await rm(repo, { recursive: true, force: true });
}
