// migrate-gate end to end: the bundled action (dist/migrate-gate) run through the harness against real PostgreSQL,
// with a Prisma layout and a plain-SQL directory, plus live table-size weighing and every bad-input path.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeSql } from '../src/migrations/analyze.js';
import { fetchTableStats } from '../src/migrations/analyze/stats.js';
import { planHash, sha256Hex } from '../src/migrations/hash.js';
import { PLAN_MARKDOWN_MAX_BYTES, PLAN_OUTPUT_MAX_BYTES, type MigrationPlan } from '../src/migrations/plan.js';
import { riskyMigrations } from '../src/release/migrate-guard.js';
import { runAction, type ActionResult } from './harness/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { freePort, startPasswordServer } from './helpers/password-server.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/sql');
const PRISMA_MIGRATIONS = ['20240101000000_init', '20240201000000_profile', '20240301000000_cleanup'];

async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

/** A fresh workspace holding a copy of a fixture project (tests may edit it). */
async function workspace(fixture: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gate-ws-'));
  await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

/** Marks a Prisma migration applied exactly as `prisma migrate deploy` records it (after running its SQL). */
async function applyPrismaMigration(url: string, ws: string, name: string, checksumOverride?: string): Promise<void> {
  const text = await readFile(path.join(ws, 'prisma/migrations', name, 'migration.sql'), 'utf8');
  await sql(url, text);
  await sql(
    url,
    `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`,
  );
  await sql(
    url,
    `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, now(), $2, 1)`,
    [checksumOverride ?? sha256Hex(text), name],
  );
}

function gate(inputs: Record<string, string>, cwd: string): Promise<ActionResult> {
  return runAction({ action: 'migrate-gate', inputs, cwd, timeoutMs: 120_000 });
}

function planOf(r: ActionResult): MigrationPlan {
  return JSON.parse(r.outputs.plan ?? 'null') as MigrationPlan;
}

const dbs: TestDatabase[] = [];
async function database(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  dbs.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

describe('migrate-gate on a Prisma project', () => {
  let db: TestDatabase;
  let ws: string;
  beforeAll(async () => {
    db = await database('gate_prisma');
    ws = await workspace('gate-prisma');
    await applyPrismaMigration(db.url, ws, '20240101000000_init');
  });

  it('finds 2 pending migrations, asks for approval because one drops a column, and exits 0', async () => {
    const r = await gate({ 'database-url': db.url }, ws);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({
      'pending-count': '2',
      risk: 'destructive',
      'requires-approval': 'true',
      decision: 'requires-approval',
    });
    const plan = planOf(r);
    expect(plan.tool).toBe('prisma');
    expect(plan.files.map((f) => f.id)).toEqual(PRISMA_MIGRATIONS.slice(1));
    // plan-hash = sha256 over ids and content checksums, computed here independently from the files on disk
    const expected = planHash(
      await Promise.all(
        PRISMA_MIGRATIONS.slice(1).map(async (id) => ({
          id,
          checksum: sha256Hex(await readFile(path.join(ws, 'prisma/migrations', id, 'migration.sql'))),
        })),
      ),
    );
    expect(r.outputs['plan-hash']).toBe(expected);
    expect(plan.planHash).toBe(expected);
    // The profile migration is safe: the new Post table's index and FK lock nothing in use; ADD COLUMN nullable is instant.
    expect(plan.files[0]).toMatchObject({ risk: 'safe', statementCount: 4 });
    const drop = plan.findings.find((f) => f.rule === 'ban-drop-column');
    // line 3 of a file whose first lines hold multi-byte text
    expect(drop).toMatchObject({
      file: 'prisma/migrations/20240301000000_cleanup/migration.sql',
      line: 3,
      risk: 'destructive',
    });
    const annotation = r.annotations.find((a) => a.properties.title?.startsWith('ban-drop-column'));
    expect(annotation).toMatchObject({
      level: 'error',
      properties: { file: 'prisma/migrations/20240301000000_cleanup/migration.sql', line: '3' },
    });
    expect(r.summary).toContain('Approval required');
    expect(r.summary).toMatch(/<table>[\s\S]*ban-drop-column[\s\S]*<\/table>/);
    expect(r.summary).toContain(expected);
    expect(r.outputs['plan-markdown']).toMatch(
      /\| destructive \| `ban-drop-column` \| `prisma\/migrations\/20240301000000_cleanup\/migration.sql:3` \|/,
    );
    expect(plan.policy.serverVersion).toBeGreaterThanOrEqual(150000);
  });

  it('approval=never turns the same plan into auto-apply; approval=always asks even for safe plans', async () => {
    const never = await gate({ 'database-url': db.url, approval: 'never' }, ws);
    expect(never.exitCode).toBe(0);
    expect(never.outputs).toMatchObject({ decision: 'auto-apply', 'requires-approval': 'false', risk: 'destructive' });

    const safeWs = await workspace('gate-prisma');
    await rm(path.join(safeWs, 'prisma/migrations/20240301000000_cleanup'), { recursive: true });
    const risky = await gate({ 'database-url': db.url }, safeWs);
    expect(risky.outputs).toMatchObject({
      decision: 'auto-apply',
      risk: 'safe',
      'pending-count': '1',
      'requires-approval': 'false',
    });
    const always = await gate({ 'database-url': db.url, approval: 'always' }, safeWs);
    expect(always.outputs).toMatchObject({ decision: 'requires-approval', 'requires-approval': 'true' });
  });

  it('blocks (exit 1) when an applied migration was edited afterwards, with outputs and an error annotation', async () => {
    const drifted = await database('gate_drift');
    await applyPrismaMigration(drifted.url, ws, '20240101000000_init', 'f'.repeat(64));
    const r = await gate({ 'database-url': drifted.url }, ws);
    expect(r.exitCode).toBe(1);
    expect(r.outputs.decision).toBe('blocked');
    expect(planOf(r).blockers[0]?.kind).toBe('checksum-drift');
    expect(
      r.annotations.some((a) => a.level === 'error' && /blocked: checksum-drift/.test(a.properties.title ?? '')),
    ).toBe(true);
    expect(r.stdout).toMatch(/::error::Migration plan blocked/);
    expect(r.summary).toContain('Blocked');
  });

  it('reports no pending migrations once everything is applied', async () => {
    const done = await database('gate_done');
    for (const m of PRISMA_MIGRATIONS) await applyPrismaMigration(done.url, ws, m);
    const r = await gate({ 'database-url': done.url }, ws);
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({
      'pending-count': '0',
      decision: 'no-pending',
      risk: 'safe',
      'requires-approval': 'false',
    });
    expect(r.outputs['plan-hash']).toBe(planHash([]));
  });
});

describe('migrate-gate on a plain SQL directory, weighing live table sizes', () => {
  let db: TestDatabase;
  let ws: string;
  beforeAll(async () => {
    db = await database('gate_plain');
    ws = await workspace('gate-plain');
    // 20 rows, never ANALYZEd: reltuples is -1, so the gate counts them (bounded by large-table-rows).
    await sql(
      db.url,
      `CREATE TABLE products (id bigint PRIMARY KEY, name text, legacy_sku text);
      INSERT INTO products SELECT g, 'p' || g, 'sku' || g FROM generate_series(1, 20) g;`,
    );
  });

  it('a plain CREATE INDEX on a 20-row table is downgraded to safe with the reason; the ignore keeps its reason', async () => {
    const r = await gate({ 'database-url': db.url, 'migrations-tool': 'sql', 'migrations-dir': 'migrations' }, ws);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({
      'pending-count': '3',
      risk: 'safe',
      decision: 'auto-apply',
      'requires-approval': 'false',
    });
    const plan = planOf(r);
    const idx = plan.findings.find((f) => f.rule === 'require-concurrent-index-creation');
    expect(idx).toMatchObject({
      file: 'migrations/001_products_name_index.sql',
      line: 2,
      risk: 'safe',
      originalRisk: 'blocking',
      level: 'notice',
    });
    expect(idx?.sizeNote).toMatch(/products has ~20 rows .* below large-table-rows=100000/);
    expect(plan.ignored).toEqual([
      {
        rule: 'ban-drop-column',
        file: 'migrations/003_products_cleanup.sql',
        line: 2,
        directiveLine: 1,
        reason: 'legacy_sku has been unused since release 2024.03 (checked by the data team)',
      },
    ]);
    expect(r.summary).toContain('legacy_sku has been unused since release 2024.03');
    expect(r.summary).toMatch(/products has ~20 rows/);
    // every table cell is closed (empty cells would be rendered as a bare <td>)
    expect(r.summary).not.toMatch(/<td>(?=<td>|<\/tr>)/);
    expect(r.summary).toMatch(
      /<td><code>migrations\/002_reviews.sql:8<\/code><\/td><td><code>ALTER TABLE reviews ADD CONSTRAINT reviews_product_fk FOREIGN KEY/,
    );
    // statements of the new table: lock reported, no finding
    const fk = plan.statements.find((s) => s.file.endsWith('002_reviews.sql') && s.sql.includes('FOREIGN KEY'));
    expect(fk).toMatchObject({ lock: 'SHARE ROW EXCLUSIVE', risk: 'safe' });
    expect(fk?.note).toMatch(/reviews is created earlier in this migration set/);
  });

  it('with large-table-rows below the table size the same index is blocking and needs approval', async () => {
    const r = await gate(
      { 'database-url': db.url, 'migrations-tool': 'sql', 'migrations-dir': 'migrations', 'large-table-rows': '10' },
      ws,
    );
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({ risk: 'blocking', decision: 'requires-approval', 'requires-approval': 'true' });
    const idx = planOf(r).findings.find((f) => f.rule === 'require-concurrent-index-creation');
    expect(idx).toMatchObject({ risk: 'blocking', level: 'error' });
    expect(idx?.sizeNote).toMatch(/at or above large-table-rows=10/);
    expect(
      r.annotations.find((a) => a.properties.title?.startsWith('require-concurrent-index-creation')),
    ).toMatchObject({
      level: 'error',
      properties: { file: 'migrations/001_products_name_index.sql', line: '2' },
    });
  });

  it('type changes are judged against the live column type: varchar(20) → text passes, bigint → integer does not', async () => {
    await sql(db.url, 'ALTER TABLE products ADD COLUMN IF NOT EXISTS code varchar(20)');
    const typed = await workspace('gate-plain');
    await writeFile(
      path.join(typed, 'migrations/004_code_text.sql'),
      'ALTER TABLE products ALTER COLUMN code TYPE text;\n',
    );
    await writeFile(
      path.join(typed, 'migrations/005_id_int.sql'),
      'ALTER TABLE products ALTER COLUMN id TYPE integer;\n',
    );
    const r = await gate({ 'database-url': db.url, 'migrations-tool': 'sql' }, typed);
    expect(r.exitCode, r.stdout).toBe(0);
    const plan = planOf(r);
    const typeFindings = plan.findings.filter((f) => f.rule === 'changing-column-type');
    expect(typeFindings.map((f) => f.file)).toEqual(['migrations/005_id_int.sql']);
    expect(typeFindings[0]?.message).toMatch(/TYPE integer from bigint/);
    expect(plan.statements.find((s) => s.file.endsWith('004_code_text.sql'))).toMatchObject({
      risk: 'safe',
      rewritesTable: false,
    });
    expect(plan.statements.find((s) => s.file.endsWith('004_code_text.sql'))?.note).toMatch(
      /character varying\(20\) → text is binary-coercible/,
    );
    expect(r.outputs).toMatchObject({ risk: 'breaking', decision: 'requires-approval' });
  });

  it('SET NOT NULL after the safe pattern ran in earlier deploys (validated CHECK in the live database) is not a scan', async () => {
    await sql(
      db.url,
      `ALTER TABLE products ADD COLUMN IF NOT EXISTS email text DEFAULT 'x', ADD COLUMN IF NOT EXISTS phone text DEFAULT 'y';
      ALTER TABLE products ADD CONSTRAINT products_email_nn CHECK (email IS NOT NULL) NOT VALID;
      ALTER TABLE products VALIDATE CONSTRAINT products_email_nn;`,
    );
    const ws2 = await workspace('gate-plain');
    await writeFile(
      path.join(ws2, 'migrations/004_not_null.sql'),
      'ALTER TABLE products ALTER COLUMN email SET NOT NULL;\nALTER TABLE products ALTER COLUMN phone SET NOT NULL;\n',
    );
    const r = await gate({ 'database-url': db.url, 'migrations-tool': 'sql', 'large-table-rows': '10' }, ws2);
    expect(r.exitCode, r.stdout).toBe(0);
    const plan = planOf(r);
    const nn = plan.findings.filter((f) => f.rule === 'adding-not-nullable-field');
    expect(nn.map((f) => f.line)).toEqual([2]); // phone only
    expect(nn[0]).toMatchObject({ risk: 'blocking', level: 'error' });
    const email = plan.statements.find((st) => st.file.endsWith('004_not_null.sql') && st.line === 1);
    expect(email).toMatchObject({ risk: 'safe', scansTable: false });
    expect(email?.note).toMatch(/validated CHECK \(email IS NOT NULL\) in the live database/);
    await sql(db.url, 'ALTER TABLE products DROP CONSTRAINT products_email_nn, DROP COLUMN email, DROP COLUMN phone');
  });

  it('unparseable SQL is reported with file and line, is opaque (approval), and does not crash', async () => {
    const broken = await workspace('gate-plain');
    await writeFile(
      path.join(broken, 'migrations/004_typo.sql'),
      '-- größer ✓\nALTER TABLE products ADD COLUMN ok text;\nALTER TABLE products ADDD COLUMN oops text;\n',
    );
    const r = await gate({ 'database-url': db.url, 'migrations-tool': 'sql' }, broken);
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({ risk: 'opaque', decision: 'requires-approval' });
    const f = planOf(r).findings.find((x) => x.rule === 'unparseable-sql');
    expect(f).toMatchObject({ file: 'migrations/004_typo.sql', line: 3, column: 22 });
    expect(planOf(r).files.find((x) => x.file.endsWith('004_typo.sql'))?.parseErrors).toHaveLength(1);
  });

  it('fetchTableStats: estimates from pg_class, bounded exact counts for never-analysed tables, indexes map to their table', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS "MixedCase" (id int); INSERT INTO "MixedCase" SELECT generate_series(1, 7)',
      );
      await client.query(
        'CREATE TABLE IF NOT EXISTS analysed AS SELECT generate_series(1, 500) AS id; ANALYZE analysed',
      );
      await client.query('CREATE INDEX IF NOT EXISTS analysed_id ON analysed (id)');
      const stats = await fetchTableStats(
        client,
        ['products', 'public.products', 'MixedCase', 'analysed', 'analysed_id', 'missing'],
        100_000,
      );
      expect(stats.get('products')?.rows).toBe(20);
      expect(stats.get('public.products')?.rows).toBe(20);
      expect(stats.get('MixedCase')?.rows).toBe(7);
      expect(stats.get('analysed')?.rows).toBe(500);
      expect(stats.get('analysed_id')?.rows).toBe(500);
      expect(stats.get('products')?.bytes).toBeGreaterThan(0);
      expect(stats.has('missing')).toBe(false);
      const bounded = await fetchTableStats(client, ['products'], 5);
      expect(bounded.get('products')?.rows).toBe(5); // counting stops at the threshold
    } finally {
      await client.end();
    }
  });

  it('fetchTableStats without SELECT privilege: estimates still work, uncountable tables stay unknown (no error)', async () => {
    const role = `gate_ro_${process.pid}_${randomBytes(3).toString('hex')}`;
    await sql(
      db.url,
      `CREATE ROLE ${role} LOGIN; CREATE TABLE IF NOT EXISTS analysed2 AS SELECT generate_series(1, 50) AS id; ANALYZE analysed2`,
    );
    const u = new URL(db.url);
    u.username = role;
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      const stats = await fetchTableStats(client, ['products', 'analysed2'], 100_000);
      expect(stats.has('products')).toBe(false); // never analysed and not readable by this role
      expect(stats.get('analysed2')?.rows).toBe(50);
    } finally {
      await client.end();
      await sql(db.url, `DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  });
});

// Eugene's "trace" technique as a check of the static lock table: run each statement inside a transaction on a real
// PostgreSQL, read the locks this backend holds (pg_locks) and whether the relation got new storage (relfilenode),
// roll back, and compare with what the analysis claims.
describe('lock and rewrite facts agree with a real PostgreSQL (pg_locks / relfilenode inside a rolled-back transaction)', () => {
  const MODES: Record<string, string> = {
    AccessShareLock: 'ACCESS SHARE',
    RowShareLock: 'ROW SHARE',
    RowExclusiveLock: 'ROW EXCLUSIVE',
    ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
    ShareLock: 'SHARE',
    ShareRowExclusiveLock: 'SHARE ROW EXCLUSIVE',
    ExclusiveLock: 'EXCLUSIVE',
    AccessExclusiveLock: 'ACCESS EXCLUSIVE',
  };
  const ORDER = Object.values(MODES);
  // [relation whose lock is compared, statement]
  const cases: Array<[string, string]> = [
    ['users', 'CREATE INDEX i1 ON users (n)'],
    ['users', 'ALTER TABLE users ADD COLUMN x text'],
    ['users', 'ALTER TABLE users ADD COLUMN x uuid DEFAULT gen_random_uuid()'],
    ['users', 'ALTER TABLE users ADD COLUMN x int DEFAULT 5'],
    ['users', 'ALTER TABLE users ADD COLUMN s serial'],
    ['users', 'ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS (n * 2) STORED'],
    ['posts', 'ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)'],
    ['users', 'ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)'],
    ['users', 'ALTER TABLE users VALIDATE CONSTRAINT age_c'],
    ['users', 'ALTER TABLE users ADD CONSTRAINT c2 CHECK (n > 0) NOT VALID'],
    ['users', 'ALTER TABLE users ADD CONSTRAINT u1 UNIQUE (email)'],
    ['users', 'CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION trg()'],
    ['users', 'ALTER TABLE users DISABLE TRIGGER ALL'],
    ['users', 'ALTER TABLE users ALTER COLUMN n SET STATISTICS 100'],
    ['users', 'ALTER TABLE users SET (fillfactor = 70)'],
    ['users', 'ALTER TABLE users ALTER COLUMN n SET DEFAULT 1'],
    ['users', 'ALTER TABLE users ALTER COLUMN n TYPE bigint'],
    ['users', 'ALTER TABLE users ALTER COLUMN name TYPE text'], // binary-coercible with the live type known
    ['users', 'ALTER TABLE users ALTER COLUMN email SET NOT NULL'],
    ['users', 'ALTER TABLE users ALTER COLUMN email DROP NOT NULL'],
    ['users', 'ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY'],
    ['users', 'ALTER TABLE users DROP COLUMN age'],
    ['users', 'ALTER TABLE users RENAME COLUMN n TO m'],
    ['users', 'ALTER TABLE users ENABLE ROW LEVEL SECURITY'],
    ['users', 'ALTER TABLE users SET UNLOGGED'],
    ['users', 'ALTER TABLE users REPLICA IDENTITY FULL'],
    ['users', 'ALTER TABLE users OWNER TO CURRENT_USER'],
    ['users', 'CREATE POLICY p ON users USING (true)'],
    ['users', 'CREATE STATISTICS s1 ON n, age FROM users'],
    ['users', "COMMENT ON TABLE users IS 'x'"],
    ['users', "COMMENT ON COLUMN users.n IS 'x'"],
    ['users', 'GRANT SELECT ON users TO PUBLIC'],
    ['users', 'UPDATE users SET n = 1'],
    ['users', 'DROP TABLE users CASCADE'],
    ['users', 'DROP INDEX users_email'],
    ['users_email', 'ALTER INDEX users_email RENAME TO ue2'],
    ['users', 'REINDEX TABLE users'],
    ['users', 'CLUSTER users USING users_email'],
    ['users', 'ANALYZE users'],
    ['users', 'LOCK TABLE users IN SHARE MODE'],
    ['mv', 'REFRESH MATERIALIZED VIEW mv'],
    ['ev', 'ALTER TABLE ev DETACH PARTITION ev1'],
  ];
  let url = '';
  beforeAll(async () => {
    url = (await database('gate_locks')).url;
    await sql(
      url,
      `CREATE TABLE users (id bigint PRIMARY KEY, email text, n int, name varchar(20), age int);
      CREATE TABLE posts (id bigint, user_id bigint);
      INSERT INTO users SELECT g, 'e' || g, g, 'n', g FROM generate_series(1, 10) g;
      CREATE INDEX users_email ON users (email);
      CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE MATERIALIZED VIEW mv AS SELECT id FROM users;
      CREATE TABLE ev (id int, at date) PARTITION BY RANGE (at);
      CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
      ALTER TABLE users ADD CONSTRAINT age_c CHECK (age > 0) NOT VALID;`,
    );
  });

  it.each(cases)('%s: %s', async (target, statement) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let real: string;
    let rewritten: boolean;
    try {
      await client.query('BEGIN');
      const before = await client.query<{ oid: number; relfilenode: number }>(
        'SELECT oid, relfilenode FROM pg_class WHERE oid = $1::regclass',
        [target],
      );
      const oid = before.rows[0]?.oid;
      await client.query(statement);
      const locks = await client.query<{ mode: string }>(
        'SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = $1',
        [oid],
      );
      real =
        locks.rows.map((r) => MODES[r.mode] ?? r.mode).sort((a, b) => ORDER.indexOf(b) - ORDER.indexOf(a))[0] ?? 'none';
      const after = await client.query<{ relfilenode: number }>('SELECT relfilenode FROM pg_class WHERE oid = $1', [
        oid,
      ]);
      rewritten = after.rows[0] !== undefined && after.rows[0].relfilenode !== before.rows[0]?.relfilenode;
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
    const [st] = await analyzeSql(statement, 'x.sql', {
      columnTypes: new Map([['users.name', 'character varying(20)']]),
    });
    expect({ lock: st?.lock ?? 'none', rewritesTable: st?.rewritesTable }).toEqual({
      lock: real,
      rewritesTable: rewritten,
    });
  });
});

describe("migrate-gate on other layouts (the migrations core's fixtures, nothing applied yet)", () => {
  const otherFixture = async (name: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), `gate-${name}-`));
    await cp(path.resolve(import.meta.dirname, 'fixtures/migrations', name), dir, { recursive: true });
    return dir;
  };

  it('Drizzle: every journal entry pending; statement-breakpoint files analysed; new tables make indexes safe', async () => {
    const db = await database('gate_drizzle');
    const r = await gate({ 'database-url': db.url }, await otherFixture('drizzle'));
    expect(r.exitCode, r.stdout).toBe(0);
    const plan = planOf(r);
    expect(plan.tool).toBe('drizzle');
    expect(plan.pendingCount).toBe(3);
    // the hnsw index is on a table created by an earlier pending migration: not a blocking build
    const hnsw = plan.statements.find((st) => st.sql.includes('USING hnsw'));
    expect(hnsw).toMatchObject({ risk: 'safe', lock: 'SHARE' });
    expect(hnsw?.note).toMatch(/chunks is created earlier in this migration set/);
    expect(plan.findings.filter((f) => f.risk !== 'safe')).toEqual([]);
    expect(r.outputs).toMatchObject({ decision: 'auto-apply', risk: 'safe' });
  });

  it('Knex: JS migrations are opaque, so the plan needs approval', async () => {
    const db = await database('gate_knex');
    const r = await gate({ 'database-url': db.url }, await otherFixture('knex'));
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({ decision: 'requires-approval', risk: 'opaque', 'pending-count': '2' });
    expect(planOf(r).files.map((f) => f.kind)).toEqual(['opaque', 'opaque']);
    expect(r.annotations.filter((a) => a.properties.title?.startsWith('opaque-migration'))).toHaveLength(2);
  });
});

describe('migrate-gate bad input: one clear error, exit 1, nothing leaked', () => {
  let db: TestDatabase;
  let ws: string;
  beforeAll(async () => {
    db = await database('gate_bad');
    ws = await workspace('gate-plain');
  });

  function expectOneError(r: ActionResult, pattern: RegExp): void {
    expect(r.exitCode).toBe(1);
    const errors = r.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(pattern);
    expect(r.allText).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace
  }

  it('unreachable database', async () => {
    const port = await freePort();
    const r = await gate(
      { 'database-url': `postgres://gate:S3cretUnreach@127.0.0.1:${port}/app`, 'migrations-tool': 'sql' },
      ws,
    );
    expectOneError(r, /Cannot connect to the database postgres:\/\/gate:\*\*\*@127\.0\.0\.1:\d+\/app: .*ECONNREFUSED/);
    expect(r.allText).not.toContain('S3cretUnreach');
  });

  it('missing and unrecognisable migrations directories; unknown tool; bad approval and large-table-rows', async () => {
    const url = db.url;
    expectOneError(
      await gate({ 'database-url': url, 'migrations-tool': 'sql', 'migrations-dir': 'nope' }, ws),
      /Input 'migrations-dir'.*nope.*does not exist/,
    );
    // JS modules no tool can be told from are NOT "no migrations": skipping them silently could skip real migrations.
    const unknown = await mkdtemp(path.join(os.tmpdir(), 'gate-unknown-'));
    await mkdir(path.join(unknown, 'migrations'));
    await writeFile(path.join(unknown, 'migrations/001_init.js'), 'module.exports = { up() {} };\n');
    expectOneError(
      await gate({ 'database-url': url }, unknown),
      /Input 'migrations-dir': migrations in .* hold JS\/TS or SQL files rail-actions cannot attribute to a migration tool/,
    );
    expectOneError(
      await gate({ 'database-url': url, 'migrations-tool': 'flyway' }, ws),
      /Input 'migrations-tool': expected one of auto, prisma/,
    );
    expectOneError(
      await gate({ 'database-url': url, approval: 'sometimes' }, ws),
      /Input 'approval': expected one of risky, always, never/,
    );
    expectOneError(
      await gate({ 'database-url': url, 'large-table-rows': 'lots' }, ws),
      /Input 'large-table-rows': expected a whole number/,
    );
    expectOneError(await gate({ 'database-url': 'mysql://u:p@h/db' }, ws), /Input 'database-url': expected a postgres/);
    expectOneError(await gate({ 'database-url': '' }, ws), /Input 'database-url': is required/);
  });

  it('wrong password against a PostgreSQL that checks passwords: the password never appears anywhere', async (ctx) => {
    const server = await startPasswordServer();
    if (!server) {
      ctx.skip();
      return;
    }
    try {
      const wrong = `Wr0ng-${randomBytes(6).toString('hex')}`;
      const r = await gate(
        {
          'database-url': `postgresql://postgres:${wrong}@127.0.0.1:${server.port}/postgres`,
          'migrations-tool': 'sql',
        },
        ws,
      );
      expectOneError(r, /password authentication failed for user "postgres"/);
      expect(r.allText).not.toContain(wrong);
      expect(r.masked).toContain(wrong);
      // and the right password works against the same server (the failure above was the password, nothing else)
      const ok = await gate(
        {
          'database-url': `postgresql://postgres:${server.password}@127.0.0.1:${server.port}/postgres`,
          'migrations-tool': 'sql',
        },
        ws,
      );
      expect(ok.exitCode, ok.stdout).toBe(0);
      expect(ok.outputs['pending-count']).toBe('3');
      expect(ok.allText).not.toContain(server.password);
    } finally {
      await server.stop();
    }
  });
});

describe('migrate-gate on an app without migrations: passes with a notice, never touches the database', () => {
  // Nothing listens here: a gate that connected would fail, so passing proves no connection was made.
  let closedUrl: string;
  beforeAll(async () => {
    closedUrl = `postgres://gate:pw@127.0.0.1:${await freePort()}/app`;
  });

  async function app(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gate-none-'));
    for (const [file, text] of Object.entries({ 'package.json': '{"name":"app"}', ...files })) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return dir;
  }

  function expectNothingToMigrate(r: ActionResult, notice: RegExp): void {
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({
      'pending-count': '0',
      decision: 'no-pending',
      risk: 'safe',
      'requires-approval': 'false',
      'plan-hash': planHash([]),
    });
    const plan = planOf(r);
    expect(plan).toMatchObject({
      schema: 'rail-actions/migration-plan@1',
      decision: 'no-pending',
      pendingCount: 0,
      planHash: planHash([]),
      files: [],
    });
    expect(riskyMigrations(plan)).toEqual([]); // the rollback guard reads it as "nothing risky"
    const notices = r.annotations.filter((a) => a.level === 'notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.message).toMatch(notice);
    expect(r.annotations.filter((a) => a.level === 'error' || a.level === 'warning')).toEqual([]);
    expect(r.outputs['plan-markdown']).toContain('**Migration plan: no-pending**');
    expect(r.summary).toContain('No migrations — nothing to migrate');
  }

  it('no migrations directory anywhere: says where it looked', async () => {
    const r = await gate({ 'database-url': closedUrl }, await app({ 'src/index.ts': 'export {};\n' }));
    expectNothingToMigrate(
      r,
      /^No migrations found in '\.' \(looked for: prisma\/migrations, drizzle, db\/migrations, migrations, .*src\/migrations\) — nothing to migrate; set migrate: false to skip the gate, or migrations-dir \(and migrations-tool\) if the app keeps them elsewhere$/,
    );
    expect(planOf(r).tool).toBe('none');
  });

  it('an empty migrations-dir (only .gitkeep) with a tool: names the directory and the layout it expected', async () => {
    const r = await gate(
      { 'database-url': closedUrl, 'migrations-dir': 'db/migrations', 'migrations-tool': 'sql' },
      await app({ 'db/migrations/.gitkeep': '' }),
    );
    expectNothingToMigrate(
      r,
      /^No migrations found in 'db\/migrations' \(looked for: \.sql files\) — nothing to migrate; set migrate: false to skip the gate$/,
    );
    expect(planOf(r).tool).toBe('sql');
  });

  it('an empty default directory does not hide a later one with migrations (tool given, no migrations-dir)', async () => {
    const db = await database('gate_hidden');
    const ws = await app({ 'migrations/.gitkeep': '', 'db/migrations/001_t.sql': 'CREATE TABLE t (id bigint);\n' });
    const r = await gate({ 'database-url': db.url, 'migrations-tool': 'sql' }, ws);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({ 'pending-count': '1', decision: 'auto-apply' });
    expect(planOf(r).files.map((f) => f.file)).toEqual(['db/migrations/001_t.sql']);
  });

  it('a detected but empty Prisma folder (migration_lock.toml only), in a working-directory', async () => {
    const ws = await app({
      'api/package.json': '{}',
      'api/prisma/migrations/migration_lock.toml': 'provider = "postgresql"\n',
    });
    const r = await gate({ 'database-url': closedUrl, 'working-directory': 'api' }, ws);
    expectNothingToMigrate(
      r,
      /^No migrations found in 'api\/prisma\/migrations' \(looked for: <timestamp>_<name>\/migration\.sql folders\)/,
    );
    expect(planOf(r).tool).toBe('prisma');
  });
});

describe('migrate-gate with a plan too large for an action input (inputs are environment variables)', () => {
  const FILES = 400;
  const PER_FILE = 10;
  let r: ActionResult;
  let expectedHash: string;
  beforeAll(async () => {
    const db = await database('gate_huge');
    const ws = await mkdtemp(path.join(os.tmpdir(), 'gate-huge-'));
    await mkdir(path.join(ws, 'migrations'));
    const files: Array<{ id: string; checksum: string }> = [];
    for (let i = 0; i < FILES; i++) {
      const id = `${String(i).padStart(4, '0')}_step.sql`;
      const lines = Array.from(
        { length: PER_FILE },
        (_, j) =>
          `ALTER TABLE accounts_${i} ADD COLUMN note_${j} text DEFAULT '${'a-long-default-value-'.repeat(4)}${j}';`,
      );
      if (i === 250) lines.push('ALTER TABLE accounts DROP COLUMN legacy_code;'); // the one destructive statement
      if (i % 50 === 0) lines.push(`CREATE INDEX accounts_${i}_note ON accounts_${i} (note_0);`);
      const text = `${lines.join('\n')}\n`;
      await writeFile(path.join(ws, 'migrations', id), text);
      files.push({ id, checksum: sha256Hex(text) });
    }
    expectedHash = planHash(files);
    r = await runAction({
      action: 'migrate-gate',
      inputs: { 'database-url': db.url, 'migrations-tool': 'sql' },
      cwd: ws,
      timeoutMs: 240_000,
    });
  }, 300_000);

  it('keeps both outputs well under the 128 KiB limit of one environment string', () => {
    expect(r.exitCode, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(Buffer.byteLength(r.outputs.plan ?? '')).toBeLessThanOrEqual(PLAN_OUTPUT_MAX_BYTES);
    expect(Buffer.byteLength(r.outputs['plan-markdown'] ?? '')).toBeLessThanOrEqual(PLAN_MARKDOWN_MAX_BYTES);
    expect(PLAN_OUTPUT_MAX_BYTES).toBeLessThanOrEqual((128 * 1024) / 2);
    expect(
      r.annotations.find((a) => a.level === 'warning' && /too large for an action input/.test(a.message)),
    ).toBeDefined();
  });

  it('the shortened plan still parses as a plan with decision, hash and every risk fact', () => {
    const plan = planOf(r);
    expect(plan).toMatchObject({
      schema: 'rail-actions/migration-plan@1',
      truncated: true,
      decision: 'requires-approval',
      risk: 'destructive',
      pendingCount: FILES,
      planHash: expectedHash,
    });
    expect(r.outputs['plan-hash']).toBe(expectedHash);
    expect(plan.counts.statements).toBe(FILES * PER_FILE + 1 + FILES / 50); // the counts are those of the whole plan
    expect(plan.omitted?.statements).toBe(plan.counts.statements);
    expect(plan.rules.find((x) => x.rule === 'ban-drop-column')).toMatchObject({ risk: 'destructive', count: 1 });
    expect(plan.rules.find((x) => x.rule === 'require-concurrent-index-creation')).toMatchObject({ count: FILES / 50 });
    expect(plan.files.find((f) => f.file === 'migrations/0250_step.sql')).toMatchObject({ risk: 'destructive' });
    // What the rollback guard concludes from the shortened plan: the destructive migration is still there.
    expect(riskyMigrations(plan)).toContainEqual(
      expect.objectContaining({ risk: 'destructive', where: 'migrations/0250_step.sql' }),
    );
  });

  it('the markdown keeps the decision, the risky file, the rules and the hash', () => {
    const md = r.outputs['plan-markdown'] ?? '';
    expect(md).toContain('**Migration plan: requires-approval**');
    expect(md).toContain('`migrations/0250_step.sql`');
    expect(md).toMatch(/Rules that fired: .*`ban-drop-column` \(destructive ×1\)/);
    expect(md.trimEnd().endsWith(`plan-hash \`${expectedHash}\``)).toBe(true);
  });

  it.skipIf(process.platform !== 'linux')('passes as an action input where a 130 KiB one cannot (execve E2BIG)', () => {
    const start = (value: string) => spawnSync(process.execPath, ['-e', ''], { env: { 'INPUT_MIGRATE-PLAN': value } });
    expect(start('x'.repeat(130 * 1024)).error).toMatchObject({ code: 'E2BIG' });
    const ok = start(r.outputs.plan ?? '');
    expect(ok.error).toBeUndefined();
    expect(ok.status).toBe(0);
  });
});
