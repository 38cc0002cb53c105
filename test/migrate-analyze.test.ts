// Risk analysis of migration SQL (src/migrations/analyze.ts) and the plan built from it (src/migrations/plan.ts).
// Pure: the real Postgres parser (libpg-query), no database. Live-size weighing against PostgreSQL is covered in
// test/migrate-gate.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  analyzeFiles,
  analyzeMigrationFiles,
  analyzeSql,
  applyTableStats,
  RULES,
  tablesToWeigh,
  type CatalogFacts,
  type CatalogQuestions,
  type StatementAnalysis,
  type TableStats,
} from '../src/migrations/analyze.js';
import { parseDirective } from '../src/migrations/analyze/directives.js';
import { rulesMarkdown } from '../src/migrations/analyze/rules.js';
import { isBinaryCoercible, parseFormatType } from '../src/migrations/analyze/statement.js';
import { SourceText } from '../src/migrations/analyze/text.js';
import { sha256Hex } from '../src/migrations/hash.js';
import { parseDbmateFile } from '../src/migrations/history/dbmate.js';
import {
  buildPlan,
  planJsonForOutput,
  planMarkdown,
  type MigrationPlan,
  type PlanPolicy,
} from '../src/migrations/plan.js';
import type { MigrationFile, PendingReport } from '../src/migrations/types.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/sql');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

const rulesOf = (st: StatementAnalysis | undefined) => (st?.findings ?? []).map((f) => f.rule);

async function one(sql: string, opts = {}): Promise<StatementAnalysis> {
  const all = await analyzeSql(sql, 'm.sql', opts);
  const last = all[all.length - 1];
  if (!last) throw new Error('no statement');
  return last;
}

describe('squawk rule coverage (existing table `users`, one statement per case)', () => {
  // [rule, SQL that must hit it, SQL for the same intent written safely (must not hit it)]
  const cases: Array<[string, string, string | null]> = [
    [
      'adding-field-with-default',
      'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()',
      'ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now()',
    ],
    [
      'adding-field-with-default',
      'ALTER TABLE users ADD COLUMN total int GENERATED ALWAYS AS (a + b) STORED',
      'ALTER TABLE users ADD COLUMN flag boolean DEFAULT false',
    ],
    [
      'adding-foreign-key-constraint',
      'ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id)',
      'ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID',
    ],
    ['adding-not-nullable-field', 'ALTER TABLE users ALTER COLUMN email SET NOT NULL', null],
    [
      'adding-required-field',
      'ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL',
      'ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0',
    ],
    [
      'adding-serial-primary-key-field',
      'ALTER TABLE users ADD PRIMARY KEY (id)',
      'ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_id_idx',
    ],
    [
      'ban-alter-domain-with-add-constraint',
      "ALTER DOMAIN email_address ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%')",
      null,
    ],
    [
      'ban-create-domain-with-constraint',
      'CREATE DOMAIN positive_int AS bigint CHECK (VALUE > 0)',
      'CREATE DOMAIN label AS text',
    ],
    ['ban-char-field', 'CREATE TABLE codes (code char(3))', 'CREATE TABLE codes (code text)'],
    ['ban-char-field', 'CREATE TABLE codes (code character(3))', 'CREATE TABLE codes (flag "char")'],
    [
      'ban-concurrent-index-creation-in-transaction',
      'BEGIN; CREATE INDEX CONCURRENTLY users_email ON users (email); COMMIT',
      'CREATE INDEX CONCURRENTLY users_email ON users (email)',
    ],
    ['ban-drop-column', 'ALTER TABLE users DROP COLUMN nickname', null],
    ['ban-drop-database', 'DROP DATABASE analytics', null],
    ['ban-drop-not-null', 'ALTER TABLE users ALTER COLUMN email DROP NOT NULL', null],
    ['ban-drop-table', 'DROP TABLE sessions', null],
    ['ban-duplicate-column-assignments', 'UPDATE users SET a = 1, a = 2', 'UPDATE users SET a = 1, b = 2'],
    ['ban-truncate-cascade', 'TRUNCATE users CASCADE', null],
    [
      'ban-uncommitted-transaction',
      'BEGIN; ALTER TABLE users ADD COLUMN x text',
      'BEGIN; ALTER TABLE users ADD COLUMN x text; COMMIT',
    ],
    ['changing-column-type', 'ALTER TABLE users ALTER COLUMN id TYPE bigint', null],
    [
      'constraint-missing-not-valid',
      'ALTER TABLE users ADD CONSTRAINT age_ok CHECK (age >= 0)',
      'ALTER TABLE users ADD CONSTRAINT age_ok CHECK (age >= 0) NOT VALID',
    ],
    [
      'constraint-missing-not-valid',
      'ALTER TABLE users ADD CONSTRAINT age_ok CHECK (age >= 0) NOT VALID; ALTER TABLE users VALIDATE CONSTRAINT age_ok',
      'ALTER TABLE users VALIDATE CONSTRAINT age_ok',
    ],
    [
      'disallowed-unique-constraint',
      'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)',
      'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx',
    ],
    ['identifier-too-long', `CREATE TABLE t_ok (${'c'.repeat(64)} text)`, `CREATE TABLE t_ok (${'c'.repeat(63)} text)`],
    ['prefer-bigint-over-int', 'CREATE TABLE t_ok (n integer)', 'CREATE TABLE t_ok (n bigint)'],
    ['prefer-bigint-over-smallint', 'CREATE TABLE t_ok (n smallint)', 'CREATE TABLE t_ok (n bigint)'],
    [
      'prefer-identity',
      'CREATE TABLE t_ok (id bigserial)',
      'CREATE TABLE t_ok (id bigint GENERATED ALWAYS AS IDENTITY)',
    ],
    ['prefer-repack', 'VACUUM FULL users', 'VACUUM users'],
    ['prefer-repack', 'CLUSTER users USING users_pkey', null],
    [
      'prefer-robust-stmts',
      'CREATE INDEX CONCURRENTLY users_email ON users (email)',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email)',
    ],
    ['prefer-text-field', 'ALTER TABLE users ADD COLUMN name varchar(100)', 'ALTER TABLE users ADD COLUMN name text'],
    [
      'prefer-timestamptz',
      'ALTER TABLE users ADD COLUMN seen timestamp',
      'ALTER TABLE users ADD COLUMN seen timestamptz',
    ],
    ['renaming-column', 'ALTER TABLE users RENAME COLUMN fullname TO full_name', null],
    ['renaming-table', 'ALTER TABLE users RENAME TO accounts', null],
    ['renaming-table', 'ALTER TABLE users SET SCHEMA archive', 'ALTER TYPE mood SET SCHEMA archive'],
    [
      'require-concurrent-index-creation',
      'CREATE INDEX users_email ON users (email)',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email)',
    ],
    ['require-concurrent-index-deletion', 'DROP INDEX users_email', 'DROP INDEX CONCURRENTLY IF EXISTS users_email'],
    [
      'require-concurrent-partition-detach',
      'ALTER TABLE events DETACH PARTITION events_2024',
      'ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY',
    ],
    ['require-concurrent-reindex', 'REINDEX INDEX users_email', 'REINDEX INDEX CONCURRENTLY users_email'],
    [
      'require-enum-value-ordering',
      "ALTER TYPE status ADD VALUE 'archived'",
      "ALTER TYPE status ADD VALUE 'archived' AFTER 'active'",
    ],
    ['transaction-nesting', 'BEGIN; BEGIN; SELECT 1; COMMIT; COMMIT', 'BEGIN; SELECT 1; COMMIT'],
    ['transaction-nesting', 'COMMIT', null],
    // extras (strong_migrations / Atlas / own)
    [
      'adding-exclusion-constraint',
      'ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)',
      null,
    ],
    ['ban-drop-schema', 'DROP SCHEMA reporting CASCADE', null],
    ['ban-truncate', 'TRUNCATE users', null],
    ['renaming-enum-value', "ALTER TYPE status RENAME VALUE 'old' TO 'new'", null],
    ['renaming-schema', 'ALTER SCHEMA app RENAME TO app2', null],
    ['prefer-jsonb', 'CREATE TABLE t_ok (doc json)', 'CREATE TABLE t_ok (doc jsonb)'],
    [
      'vector-index-build',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_emb ON items USING hnsw (embedding vector_cosine_ops)',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_name ON items (name)',
    ],
    ['data-backfill', "UPDATE users SET plan = 'free' WHERE plan IS NULL", "INSERT INTO plans (name) VALUES ('free')"],
    ['data-deletion', 'DELETE FROM sessions WHERE expires < now()', null],
    ['opaque-statement', "DO $$ BEGIN EXECUTE 'DROP TABLE x'; END $$", 'SELECT 1'],
    ['require-concurrent-refresh', 'REFRESH MATERIALIZED VIEW stats', 'REFRESH MATERIALIZED VIEW CONCURRENTLY stats'],
    [
      'ban-drop-constraint',
      'ALTER TABLE posts DROP CONSTRAINT posts_user_fk',
      'ALTER TABLE posts DROP CONSTRAINT posts_user_fk, ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID',
    ],
    [
      'index-too-many-columns',
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS wide ON users (a, b, c, d)',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS wide ON users (a, b, c, d)',
    ],
  ];

  it.each(cases)('%s: %s', async (ruleId, bad, good) => {
    expect(RULES.has(ruleId)).toBe(true);
    const all = await analyzeSql(bad, 'm.sql');
    expect(all.flatMap(rulesOf)).toContain(ruleId);
    if (good) {
      const ok = await analyzeSql(good, 'm.sql');
      expect(ok.flatMap(rulesOf)).not.toContain(ruleId);
    }
  });

  it('covers every rule id squawk 2.66 has (or accepts its alias)', () => {
    const squawk = [
      'adding-field-with-default',
      'adding-foreign-key-constraint',
      'adding-not-nullable-field',
      'adding-required-field',
      'adding-serial-primary-key-field',
      'ban-alter-domain-with-add-constraint',
      'ban-char-field',
      'ban-concurrent-index-creation-in-transaction',
      'ban-create-domain-with-constraint',
      'ban-drop-column',
      'ban-drop-database',
      'ban-drop-not-null',
      'ban-drop-table',
      'ban-duplicate-column-assignments',
      'ban-truncate-cascade',
      'ban-uncommitted-transaction',
      'changing-column-type',
      'constraint-missing-not-valid',
      'disallowed-unique-constraint',
      'identifier-too-long',
      'prefer-bigint-over-int',
      'prefer-bigint-over-smallint',
      'prefer-identity',
      'prefer-repack',
      'prefer-robust-stmts',
      'prefer-text-field',
      'prefer-timestamptz',
      'renaming-column',
      'renaming-table',
      'require-concurrent-index-creation',
      'require-concurrent-index-deletion',
      'require-concurrent-partition-detach',
      'require-concurrent-reindex',
      'require-enum-value-ordering',
      'require-lock-timeout',
      'require-statement-timeout',
      'require-table-schema',
      'transaction-nesting',
      'unused-ignore',
    ];
    for (const id of squawk) expect(RULES.has(id), id).toBe(true);
    for (const alias of ['prefer-timestamp-tz', 'prefer-big-int', 'require-timeout-settings']) {
      expect(parseDirective(`-- squawk-ignore ${alias}`, 1, 0, 10)?.rules, alias).not.toEqual([]);
    }
  });

  it('docs/migrate-gate-rules.md lists every rule (regenerate with UPDATE_RULES_DOC=1)', async () => {
    const doc = path.resolve(import.meta.dirname, '../docs/migrate-gate-rules.md');
    if (process.env.UPDATE_RULES_DOC === '1') await writeFile(doc, rulesMarkdown());
    expect(
      readFileSync(doc, 'utf8'),
      'docs/migrate-gate-rules.md is stale: run UPDATE_RULES_DOC=1 npx vitest run test/migrate-analyze.test.ts',
    ).toBe(rulesMarkdown());
  });

  it('require-lock-timeout / require-statement-timeout fire only when the runner does not set timeouts', async () => {
    const sql = 'ALTER TABLE users ALTER COLUMN email SET NOT NULL';
    expect(rulesOf(await one(sql))).not.toContain('require-lock-timeout');
    const strict = await one(sql, { runnerSetsTimeouts: false });
    expect(rulesOf(strict)).toEqual(expect.arrayContaining(['require-lock-timeout', 'require-statement-timeout']));
    const withTimeouts = await one(`SET lock_timeout = '2s'; SET statement_timeout = '5s'; ${sql}`, {
      runnerSetsTimeouts: false,
    });
    expect(rulesOf(withTimeouts)).not.toContain('require-lock-timeout');
    expect(rulesOf(withTimeouts)).not.toContain('require-statement-timeout');
  });

  it('require-table-schema is opt-in, like squawk', async () => {
    expect(rulesOf(await one('ALTER TABLE users ADD COLUMN a text'))).not.toContain('require-table-schema');
    expect(
      rulesOf(await one('ALTER TABLE users ADD COLUMN a text', { enableRules: ['require-table-schema'] })),
    ).toContain('require-table-schema');
    expect(
      rulesOf(await one('ALTER TABLE public.users ADD COLUMN a text', { enableRules: ['require-table-schema'] })),
    ).not.toContain('require-table-schema');
  });
});

// The real squawk (npm squawk-cli, a devDependency) on the same file: every violation it reports must be reported here
// too, on the same line, under the same rule id — except where this analysis is deliberately more precise.
describe('parity with squawk-cli on the same SQL', () => {
  const squawkBin = (() => {
    try {
      const bin = createRequire(import.meta.url).resolve(`@squawk-cli/${process.platform}-${process.arch}/bin/squawk`);
      return existsSync(bin) ? bin : undefined;
    } catch {
      return undefined;
    }
  })();
  if (!squawkBin)
    console.warn(
      'skipping squawk parity: squawk-cli has no binary installed for this platform (npm ci installs @squawk-cli/<platform>)',
    );

  it.skipIf(!squawkBin).each(['squawk-parity.sql', 'squawk-parity-tx.sql'])(
    'reports everything squawk reports on test/fixtures/sql/%s',
    async (name) => {
      const file = path.join(FIXTURES, name);
      let out: string;
      try {
        out = execFileSync(squawkBin ?? 'squawk', ['--reporter', 'json', file], { encoding: 'utf8' });
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? ''); // exit 1 = violations found
      }
      const violations = JSON.parse(out) as Array<{ line: number; rule_name: string }>;
      expect(violations.length).toBeGreaterThan(15);
      // Outside a transaction (squawk's default assumption), with timeouts required (squawk's default rules).
      const ours = await analyzeSql(fixture(name), 'p.sql', { transactionMode: 'none', runnerSetsTimeouts: false });
      const lines = fixture(name).split('\n');
      const found = new Set(ours.flatMap((st) => st.findings.map((f) => `${st.line}:${f.rule}`)));
      const missing: string[] = [];
      for (const v of violations) {
        const rule = v.rule_name === 'prefer-timestamp-tz' ? 'prefer-timestamptz' : v.rule_name;
        const line = v.line + 1; // squawk's JSON lines are 0-based
        const text = lines[line - 1] ?? '';
        // Deliberate differences: PRIMARY KEY/UNIQUE cannot be NOT VALID (we report the index-build rule instead), and
        // SET/DROP NOT NULL and ALTER COLUMN TYPE are idempotent, so re-running them after a partial failure works.
        if (rule === 'constraint-missing-not-valid' && /PRIMARY KEY|UNIQUE/.test(text)) continue;
        if (rule === 'prefer-robust-stmts' && /(SET|DROP) NOT NULL|ALTER COLUMN \w+ TYPE/.test(text)) continue;
        if (!found.has(`${line}:${rule}`)) missing.push(`${line}:${rule}  ${text}`);
      }
      expect(missing).toEqual([]);
    },
  );
});

describe('statement facts: locks, rewrites, scans, transactions, classes', () => {
  const facts: Array<[string, string | null, { rewrite?: boolean; scan?: boolean; tx?: boolean; risk: string }]> = [
    ['CREATE INDEX i ON users (email)', 'SHARE', { scan: true, risk: 'blocking' }],
    [
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (email)',
      'SHARE UPDATE EXCLUSIVE',
      { scan: true, tx: false, risk: 'safe' },
    ],
    ['DROP INDEX CONCURRENTLY IF EXISTS i', 'SHARE UPDATE EXCLUSIVE', { tx: false, risk: 'safe' }],
    ['REINDEX TABLE CONCURRENTLY users', 'SHARE UPDATE EXCLUSIVE', { tx: false, risk: 'safe' }],
    [
      'ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users (id)',
      'SHARE ROW EXCLUSIVE',
      { scan: true, risk: 'blocking' },
    ],
    ['ALTER TABLE users VALIDATE CONSTRAINT c', 'SHARE UPDATE EXCLUSIVE', { scan: true, risk: 'safe' }],
    ['ALTER TABLE users ALTER COLUMN a TYPE text', 'ACCESS EXCLUSIVE', { rewrite: true, risk: 'breaking' }],
    ['ALTER TABLE users ADD COLUMN n bigint', 'ACCESS EXCLUSIVE', { rewrite: false, scan: false, risk: 'safe' }],
    [
      'ALTER TABLE users ADD COLUMN id2 uuid DEFAULT gen_random_uuid()',
      'ACCESS EXCLUSIVE',
      { rewrite: true, risk: 'blocking' },
    ],
    ['ALTER TABLE users ALTER COLUMN a SET DEFAULT 1', 'ACCESS EXCLUSIVE', { risk: 'safe' }],
    [
      'CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION f()',
      'SHARE ROW EXCLUSIVE',
      { risk: 'safe' },
    ],
    ['VACUUM users', 'SHARE UPDATE EXCLUSIVE', { tx: false, risk: 'safe' }],
    ['VACUUM FULL users', 'ACCESS EXCLUSIVE', { rewrite: true, tx: false, risk: 'blocking' }],
    ['DROP TABLE users', 'ACCESS EXCLUSIVE', { risk: 'destructive' }],
    ['ALTER TABLE users RENAME TO people', 'ACCESS EXCLUSIVE', { risk: 'breaking' }],
    ['UPDATE users SET a = 1', 'ROW EXCLUSIVE', { scan: true, risk: 'opaque' }],
    ['CREATE DATABASE other', null, { tx: false, risk: 'safe' }],
    ['ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY', 'SHARE UPDATE EXCLUSIVE', { tx: false, risk: 'safe' }],
    ["ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'", null, { tx: true, risk: 'safe' }],
    ['CREATE TABLE fresh (id bigint)', null, { risk: 'safe' }],
  ];
  it.each(facts)('%s → %s', async (sql, lock, exp) => {
    const st = await one(sql);
    expect(st.lock).toBe(lock);
    if (exp.rewrite !== undefined) expect(st.rewritesTable).toBe(exp.rewrite);
    if (exp.scan !== undefined) expect(st.scansTable).toBe(exp.scan);
    expect(st.transactional).toBe(exp.tx ?? true);
    expect(st.risk).toBe(exp.risk);
  });

  it('breaking and destructive flags', async () => {
    const drop = await one('ALTER TABLE users DROP COLUMN a');
    expect([drop.breaking, drop.destructive]).toEqual([true, true]);
    const rename = await one('ALTER TABLE users RENAME COLUMN a TO b');
    expect([rename.breaking, rename.destructive]).toEqual([true, false]);
    const req = await one('ALTER TABLE users ADD COLUMN t bigint NOT NULL');
    expect(req.breaking).toBe(true);
    const type = await one('ALTER TABLE users ALTER COLUMN a TYPE bigint');
    expect(type.breaking).toBe(true);
  });

  it('PostgreSQL version semantics: ADD VALUE cannot run in a transaction before 12; defaults rewrite before 11', async () => {
    expect((await one("ALTER TYPE mood ADD VALUE 'meh'", { pgVersion: 110000 })).transactional).toBe(false);
    expect((await one("ALTER TYPE mood ADD VALUE 'meh'", { pgVersion: 150004 })).transactional).toBe(true);
    expect(rulesOf(await one('ALTER TABLE users ADD COLUMN f boolean DEFAULT false', { pgVersion: 10 }))).toContain(
      'adding-field-with-default',
    );
    expect(rulesOf(await one('ALTER TABLE users ADD COLUMN f boolean DEFAULT false', { pgVersion: 15 }))).not.toContain(
      'adding-field-with-default',
    );
  });

  it('PG12+: SET NOT NULL after a validated CHECK (col IS NOT NULL) does not scan; before 12 it still does', async () => {
    const steps = [
      { file: '1.sql', sql: 'ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;' },
      { file: '2.sql', sql: 'ALTER TABLE users VALIDATE CONSTRAINT email_nn;' },
      { file: '3.sql', sql: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;' },
    ];
    const [a, b, c] = await analyzeFiles(steps);
    expect(a?.statements[0]?.risk).toBe('safe');
    expect(rulesOf(b?.statements[0])).toEqual([]); // separate file = separate transaction
    expect(c?.statements[0]?.scansTable).toBe(false);
    expect(rulesOf(c?.statements[0])).toEqual([]);
    const old = await analyzeFiles(steps, { pgVersion: 11 });
    expect(rulesOf(old[2]?.statements[0])).toContain('adding-not-nullable-field');
  });

  it('tables created earlier in the pending set are empty: no lock findings on them, even in a later file', async () => {
    const [first, second] = await analyzeFiles([
      { file: '001.sql', sql: 'CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, note text);' },
      {
        file: '002.sql',
        sql: [
          'CREATE INDEX orders_user ON orders (user_id);',
          'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);',
          'ALTER TABLE orders ALTER COLUMN note SET NOT NULL;',
          'ALTER TABLE orders ADD COLUMN total bigint NOT NULL;',
          'ALTER TABLE orders DROP COLUMN note;',
          'CREATE INDEX users_created ON users (created_at);',
        ].join('\n'),
      },
    ]);
    expect(first?.statements[0]?.risk).toBe('safe');
    const risks = second?.statements.map((s) => s.risk);
    expect(risks).toEqual(['safe', 'safe', 'safe', 'safe', 'safe', 'blocking']);
    expect(second?.statements[1]?.lock).toBe('SHARE ROW EXCLUSIVE'); // the lock is still reported
    expect(second?.statements[0]?.note).toMatch(/^orders is created earlier in this migration set: it is empty/);
    expect(second?.statements[5]?.note).toBeUndefined();
  });

  it('a constraint dropped and re-created in the same set is not reported as a dropped constraint', async () => {
    const [, b] = await analyzeFiles([
      { file: '1.sql', sql: 'ALTER TABLE posts DROP CONSTRAINT posts_user_fk;' },
      {
        file: '2.sql',
        sql: 'ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID;',
      },
    ]);
    expect(b?.statements[0]?.risk).toBe('safe');
    const [a] = await analyzeFiles([{ file: '1.sql', sql: 'ALTER TABLE posts DROP CONSTRAINT posts_user_fk;' }]);
    expect(rulesOf(a?.statements[0])).toContain('ban-drop-constraint');
  });

  it('binary-coercible type changes: decided from the live column type when known', () => {
    const can = (from: string, to: string) => isBinaryCoercible(parseFormatType(from), parseFormatType(to));
    expect(can('character varying(20)', 'character varying(50)')).toBe(true);
    expect(can('character varying(50)', 'character varying(20)')).toBe(false);
    expect(can('character varying(20)', 'text')).toBe(true);
    expect(can('character varying(20)', 'character varying')).toBe(true);
    expect(can('text', 'character varying')).toBe(true);
    expect(can('text', 'character varying(10)')).toBe(false);
    expect(can('numeric(10,2)', 'numeric(12,2)')).toBe(true);
    expect(can('numeric(10,2)', 'numeric(12,3)')).toBe(false);
    expect(can('numeric(10,2)', 'numeric')).toBe(true);
    expect(can('cidr', 'inet')).toBe(true);
    expect(can('integer', 'bigint')).toBe(false);
    expect(can('text[]', 'text')).toBe(false);
  });

  it('ALTER COLUMN TYPE with live column types: coercible changes pass with a note, others name the old type', async () => {
    const columnTypes = new Map([
      ['users.name', 'character varying(20)'],
      ['users.id', 'integer'],
    ]);
    const widen = await one('ALTER TABLE users ALTER COLUMN name TYPE text', { columnTypes });
    expect(widen.findings.filter((f) => f.rule === 'changing-column-type')).toEqual([]);
    expect(widen.rewritesTable).toBe(false);
    expect(widen.note).toMatch(/character varying\(20\) → text is binary-coercible/);
    const narrow = await one('ALTER TABLE users ALTER COLUMN name TYPE varchar(10)', { columnTypes });
    expect(narrow.findings.find((f) => f.rule === 'changing-column-type')?.message).toMatch(
      /TYPE varchar\(10\) from character varying\(20\)/,
    );
    const big = await one('ALTER TABLE users ALTER COLUMN id TYPE bigint', { columnTypes });
    expect(big).toMatchObject({ risk: 'breaking', rewritesTable: true });
    const using = await one('ALTER TABLE users ALTER COLUMN name TYPE text USING trim(name)', { columnTypes });
    expect(rulesOf(using)).toContain('changing-column-type');
    const unknown = await one('ALTER TABLE users ALTER COLUMN name TYPE text');
    expect(rulesOf(unknown)).toContain('changing-column-type');
  });

  it('SET NOT NULL with live NOT NULL proofs: a validated CHECK (PG12+) or an existing NOT NULL means no scan', async () => {
    const sqlText = 'ALTER TABLE users ALTER COLUMN email SET NOT NULL';
    const checked = await one(sqlText, { notNullProofs: new Map([['users.email', 'check' as const]]) });
    expect(rulesOf(checked)).toEqual([]);
    expect(checked.scansTable).toBe(false);
    expect(checked.note).toMatch(/validated CHECK \(email IS NOT NULL\) in the live database/);
    expect(
      rulesOf(await one(sqlText, { pgVersion: 11, notNullProofs: new Map([['users.email', 'check' as const]]) })),
    ).toContain('adding-not-nullable-field');
    expect(
      rulesOf(await one(sqlText, { pgVersion: 11, notNullProofs: new Map([['users.email', 'not-null' as const]]) })),
    ).toEqual([]);
    const unproven = await one(sqlText);
    expect(unproven.findings[0]).toMatchObject({
      rule: 'adding-not-nullable-field',
      columnName: 'email',
      table: 'users',
    });
  });

  it('noTransaction files (dbmate transaction:false …) make every statement need IF [NOT] EXISTS', async () => {
    const [a] = await analyzeFiles([
      { file: 'x.sql', sql: 'CREATE TABLE a (id bigint); ALTER TABLE users ADD COLUMN b text;', noTransaction: true },
    ]);
    expect(a?.statements.map((s) => rulesOf(s).includes('prefer-robust-stmts'))).toEqual([true, true]);
    const [b] = await analyzeFiles([
      { file: 'x.sql', sql: 'CREATE TABLE a (id bigint); ALTER TABLE users ADD COLUMN b text;' },
    ]);
    expect(b?.statements.flatMap(rulesOf)).not.toContain('prefer-robust-stmts');
  });
});

describe('positions: UTF-8 byte offsets → lines and character columns', () => {
  it('SourceText maps byte offsets of multi-byte text to the right line and character column', () => {
    const text = 'ab\n日本語 🚀x\nz';
    const src = new SourceText(text);
    const xByte = Buffer.from(text).indexOf('x');
    expect(src.positionOfByte(xByte)).toEqual({ line: 2, column: 6 }); // 日 本 語 ␠ 🚀 x
    expect(src.positionOfByte(Buffer.from(text).indexOf('z'))).toEqual({ line: 3, column: 1 });
    expect(src.byteOfCharIndex([...text].indexOf('x'))).toBe(xByte);
  });

  it('columns stay right on a single very long line, looked up in any order', () => {
    const text = `${'é'.repeat(1000)}x${'ü'.repeat(1000)}y`;
    const src = new SourceText(text);
    const bytes = Buffer.from(text);
    const y = bytes.indexOf('y');
    const x = bytes.indexOf('x');
    expect(src.positionOfByte(y)).toEqual({ line: 1, column: 2002 });
    expect(src.positionOfByte(x)).toEqual({ line: 1, column: 1001 }); // backwards after a forward lookup
    expect(src.positionOfByte(y)).toEqual({ line: 1, column: 2002 });
  });

  it('reports the right line for every statement of a file full of non-ASCII text', async () => {
    const sql = fixture('unicode.sql');
    const lines = sql.split('\n');
    const statements = await analyzeSql(sql, 'unicode.sql');
    expect(statements.map((s) => s.kind)).toEqual([
      'CommentStmt',
      'CreateStmt',
      'AlterTableStmt',
      'InsertStmt',
      'DropStmt',
    ]);
    for (const st of statements) {
      const lineText = lines[st.line - 1] ?? '';
      // The statement text starts exactly at the reported (line, column), counted in characters.
      expect(
        [...lineText]
          .slice(st.column - 1)
          .join('')
          .startsWith(st.sql.split('\n')[0] ?? '?'),
      ).toBe(true);
    }
    const alter = statements[2];
    expect(alter?.line).toBe(4);
    expect(alter?.column).toBe([...'/* ещё комментарий 🎉 */ '].length + 1);
    const required = alter?.findings.find((f) => f.rule === 'adding-required-field');
    expect(required?.line).toBe(4);
    // The finding points at the column definition itself ("straße" …), not at the statement start.
    expect([...(lines[3] ?? '')].slice((required?.column ?? 1) - 1).join('')).toMatch(/^"straße" text NOT NULL/);
    const drop = statements[4];
    expect([drop?.line, drop?.column]).toEqual([6, 3]);
    expect(drop?.sql).toBe('DROP TABLE "ümlaut_alt"');
  });

  it('never throws on unparseable SQL: the bad statement is opaque with file and line; the others are analysed', async () => {
    const statements = await analyzeSql(fixture('broken.sql'), 'db/broken.sql');
    expect(statements.map((s) => s.kind)).toEqual(['CreateStmt', 'AlterTableStmt', 'ParseError', 'DropStmt']);
    const bad = statements[2];
    expect(bad?.risk).toBe('opaque');
    expect(bad?.findings[0]).toMatchObject({ rule: 'unparseable-sql', file: 'db/broken.sql', line: 4, column: 19 });
    expect(bad?.findings[0]?.message).toMatch(/syntax error at or near "ADDD"/);
    expect(statements[3]?.findings.map((f) => f.rule)).toContain('ban-drop-table');
    expect(statements[3]?.line).toBe(5);
  });

  it('an unterminated literal (even the scanner gives up) yields one opaque statement at the error line', async () => {
    const [a] = await analyzeFiles([{ file: 'u.sql', sql: fixture('unterminated.sql') }]);
    expect(a?.parseErrors).toHaveLength(1);
    expect(a?.parseErrors[0]?.line).toBe(3);
    expect(a?.statements.some((s) => s.risk === 'opaque')).toBe(true);
  });

  it('empty and comment-only files have no statements', async () => {
    expect(await analyzeSql('', 'e.sql')).toEqual([]);
    expect(await analyzeSql('-- nothing here\n/* still nothing */\n', 'e.sql')).toEqual([]);
  });
});

describe('inline ignore directives', () => {
  it('parses rule lists and reasons in both flavours', () => {
    expect(
      parseDirective('-- rail-actions-ignore: ban-drop-table, ban-drop-column archived to S3', 1, 0, 1),
    ).toMatchObject({
      scope: 'statement',
      rules: ['ban-drop-table', 'ban-drop-column'],
      reason: 'archived to S3',
    });
    expect(parseDirective('-- rail-actions-ignore-file: prefer-text-field — we like varchar', 1, 0, 1)).toMatchObject({
      scope: 'file',
      rules: ['prefer-text-field'],
      reason: 'we like varchar',
    });
    expect(parseDirective('-- squawk-ignore-file', 1, 0, 1)).toMatchObject({ scope: 'file', rules: 'all' });
    expect(parseDirective('/* squawk-ignore prefer-timestamp-tz */', 1, 0, 1)).toMatchObject({
      rules: ['prefer-timestamptz'],
    });
    expect(parseDirective('-- just a comment', 1, 0, 1)).toBeUndefined();
  });

  it('applies next-statement, trailing and file-level directives, keeps reasons, and reports useless ones', async () => {
    const statements = await analyzeSql(fixture('ignores.sql'), 'ignores.sql');
    const byKind = (i: number) => statements[i];
    // file-level: int columns accepted for the whole file
    expect(rulesOf(byKind(0))).not.toContain('prefer-bigint-over-int');
    expect(byKind(0)?.ignored.map((i) => i.rule)).toContain('prefer-bigint-over-int');
    expect(byKind(0)?.ignored[0]?.reason).toBe('legacy schema uses int everywhere');
    // next statement, with the reason kept
    expect(byKind(1)?.risk).toBe('safe');
    expect(byKind(1)?.ignored).toEqual([
      { rule: 'ban-drop-table', file: 'ignores.sql', line: 4, directiveLine: 3, reason: 'archived to S3 in JIRA-123' },
    ]);
    // a squawk-ignore written after the statement on the same line applies to that statement
    expect(rulesOf(byKind(2))).not.toContain('ban-drop-column');
    expect(byKind(2)?.ignored[0]?.reason).toBe('(no reason given)');
    expect(rulesOf(byKind(3))).not.toContain('renaming-column');
    // directive-looking text inside a string literal is not a directive
    expect(rulesOf(byKind(5))).toContain('ban-drop-table');
    // unknown rule id → unused-ignore notice on the directive's line
    const unused = statements.flatMap((s) => s.findings).filter((f) => f.rule === 'unused-ignore');
    expect(unused.map((f) => f.line)).toEqual([10]);
    expect(unused[0]?.message).toMatch(/unknown rule id no-such-rule/);
    // the ban-drop-column directive of line 3 is used by DROP TABLE only for ban-drop-table: not reported as unused
  });
});

describe('table-size weighing', () => {
  const sql = [
    'CREATE INDEX users_email ON users (email);',
    'ALTER TABLE events ALTER COLUMN payload SET NOT NULL;',
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_emb ON public.items USING hnsw (embedding vector_l2_ops);',
    'DROP TABLE tiny;',
  ].join('\n');

  it('downgrades blocking findings on small tables and upgrades them on large ones, with the reason stated', async () => {
    const stats = new Map<string, TableStats>([
      ['users', { rows: 120, bytes: 64 * 1024 }],
      ['events', { rows: 52_000_000, bytes: 40 * 1024 ** 3 }],
      ['public.items', { rows: 2_000_000, bytes: 8 * 1024 ** 3 }],
      ['tiny', { rows: 3, bytes: 8192 }],
    ]);
    const [users, events, items, tiny] = await analyzeSql(sql, 'm.sql', { tableStats: stats, largeTableRows: 100_000 });
    expect(users?.risk).toBe('safe');
    expect(users?.findings[0]).toMatchObject({
      rule: 'require-concurrent-index-creation',
      risk: 'safe',
      level: 'notice',
      originalRisk: 'blocking',
    });
    expect(users?.findings[0]?.sizeNote).toMatch(/users has ~120 rows \(64 kB\), below large-table-rows=100000/);
    expect(events?.risk).toBe('blocking');
    expect(events?.findings[0]).toMatchObject({ rule: 'adding-not-nullable-field', level: 'error' });
    expect(events?.findings[0]?.sizeNote).toMatch(/~52\.0M rows \(40 GB\)/);
    expect(items?.findings.find((f) => f.rule === 'vector-index-build')).toMatchObject({
      risk: 'blocking',
      level: 'warning',
    });
    // data loss is never downgraded by size
    expect(tiny?.risk).toBe('destructive');
  });

  it('is idempotent and lists exactly the tables whose size matters', async () => {
    const files = await analyzeFiles([{ file: 'm.sql', sql }]);
    expect(tablesToWeigh(files).sort()).toEqual(['events', 'public.items', 'users']);
    const statements = files.flatMap((f) => f.statements);
    const stats = new Map([['users', { rows: 5, bytes: 1 }]]);
    applyTableStats(statements, stats, 10);
    applyTableStats(statements, stats, 10);
    expect(statements[0]?.risk).toBe('safe');
    applyTableStats(statements, new Map([['users', { rows: 50, bytes: 1 }]]), 10);
    expect(statements[0]?.risk).toBe('blocking');
    expect(statements[0]?.findings[0]?.level).toBe('error');
  });
});

describe('buildPlan', () => {
  const policy: PlanPolicy = { approval: 'risky', largeTableRows: 100_000, tableStats: false };
  function mf(id: string, sql: string | undefined, extra: Partial<MigrationFile> = {}): MigrationFile {
    return {
      id,
      path: `/repo/${id}.sql`,
      relPath: `migrations/${id}.sql`,
      sql,
      checksum: sha256Hex(sql ?? id),
      kind: sql === undefined ? 'opaque' : 'sql',
      ...extra,
    };
  }
  function report(pending: MigrationFile[], anomalies: PendingReport['anomalies'] = []): PendingReport {
    return { tool: 'sql', dir: 'migrations', files: pending, applied: [], pending, anomalies };
  }
  async function plan(
    pending: MigrationFile[],
    p: Partial<PlanPolicy> = {},
    anomalies: PendingReport['anomalies'] = [],
  ) {
    return buildPlan(report(pending, anomalies), await analyzeMigrationFiles(pending), { ...policy, ...p });
  }

  it('auto-applies a safe plan, asks for approval on a risky one, and honours always/never', async () => {
    const safe = [mf('001', 'CREATE TABLE a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);')];
    const risky = [mf('001', 'CREATE TABLE a (id bigint);'), mf('002', 'ALTER TABLE users RENAME COLUMN a TO b;')];
    expect((await plan(safe)).decision).toBe('auto-apply');
    const r = await plan(risky);
    expect(r).toMatchObject({
      decision: 'requires-approval',
      requiresApproval: true,
      risk: 'breaking',
      pendingCount: 2,
    });
    expect(r.reasons[0]).toMatch(/breaking: 1 finding\(s\) \(renaming-column\), first at migrations\/002.sql:1/);
    expect((await plan(safe, { approval: 'always' })).decision).toBe('requires-approval');
    expect((await plan(risky, { approval: 'never' })).decision).toBe('auto-apply');
    expect((await plan([])).decision).toBe('no-pending');
  });

  it('blocks on process anomalies and on SQL that certainly fails, whatever the approval policy', async () => {
    const files = [mf('001', 'CREATE TABLE a (id bigint);')];
    const drift = await plan(files, { approval: 'never' }, [
      { kind: 'checksum-drift', file: 'migrations/000.sql', detail: 'edited after it was applied' },
    ]);
    expect(drift.decision).toBe('blocked');
    expect(drift.requiresApproval).toBe(false);
    expect(drift.blockers).toEqual([
      { kind: 'checksum-drift', file: 'migrations/000.sql', detail: 'edited after it was applied' },
    ]);
    const cic = await plan([mf('002', 'BEGIN;\nCREATE INDEX CONCURRENTLY i ON users (e);\nCOMMIT;')]);
    expect(cic.decision).toBe('blocked');
    expect(cic.blockers[0]).toMatchObject({
      kind: 'rule',
      rule: 'ban-concurrent-index-creation-in-transaction',
      line: 2,
    });
  });

  it('section-based files (dbmate up/down): positions are those of the file, the down section is not analysed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dbmate-'));
    const text =
      '-- Größe: header ✓\n-- rail-actions-ignore-file: prefer-robust-stmts reviewed\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_e ON users (e);\nDROP TABLE legacy;\n\n-- migrate:down\nDROP INDEX users_e;\n';
    const file = path.join(dir, '20240101_x.sql');
    await writeFile(file, text);
    const { up, transaction } = parseDbmateFile(text, file);
    const p = await plan([
      {
        id: '20240101',
        path: file,
        relPath: 'db/migrations/20240101_x.sql',
        sql: up,
        checksum: sha256Hex(text),
        kind: 'sql',
        noTransaction: !transaction,
      },
    ]);
    expect(p.statements.map((st) => [st.kind, st.line])).toEqual([
      ['IndexStmt', 4],
      ['DropStmt', 5],
    ]);
    expect(p.findings.find((f) => f.rule === 'ban-drop-table')).toMatchObject({ line: 5, column: 1 });
    expect(p.ignored.map((i) => [i.rule, i.directiveLine])).toContainEqual(['prefer-robust-stmts', 2]);
    expect(p.files[0]?.noTransaction).toBe(true);
  });

  it('a huge plan is shortened for the step output but keeps decision, hash, files and blockers', async () => {
    const statements = Array.from(
      { length: 3000 },
      (_, i) => `CREATE INDEX idx_${i} ON users (c_${i}); ALTER TABLE users ADD COLUMN v_${i} varchar(20);`,
    ).join('\n');
    const p = await plan([mf('001', statements)]);
    const full = JSON.stringify(p);
    expect(full.length).toBeGreaterThan(1_000_000);
    expect(planJsonForOutput(p, full.length)).toBe(full); // fits: unchanged
    for (const limit of [900_000, 200_000, 20_000]) {
      const json = planJsonForOutput(p, limit);
      expect(json.length).toBeLessThanOrEqual(limit);
      const small = JSON.parse(json) as MigrationPlan;
      expect(small).toMatchObject({
        truncated: true,
        decision: p.decision,
        risk: p.risk,
        planHash: p.planHash,
        pendingCount: 1,
      });
      expect(small.files).toHaveLength(1);
      expect(small.rules).toEqual(p.rules);
    }
  });

  it('JS/TS migrations are opaque and need approval', async () => {
    const p = await plan([mf('003_seed', undefined, { relPath: 'migrations/003_seed.js' })]);
    expect(p.risk).toBe('opaque');
    expect(p.decision).toBe('requires-approval');
    expect(p.files[0]).toMatchObject({ kind: 'opaque', file: 'migrations/003_seed.js' });
    expect(p.findings[0]?.rule).toBe('opaque-migration');
  });

  it('has a stable content hash that changes with any id, content or order change', async () => {
    const a = mf('001', 'CREATE TABLE a (id bigint);');
    const b = mf('002', 'CREATE TABLE b (id bigint);');
    const h1 = (await plan([a, b])).planHash;
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect((await plan([a, b])).planHash).toBe(h1);
    expect((await plan([b, a])).planHash).not.toBe(h1);
    expect((await plan([a, mf('002', 'CREATE TABLE b (id bigint, x text);')])).planHash).not.toBe(h1);
    expect((await plan([a, { ...b, id: '002_renamed' }])).planHash).not.toBe(h1);
    // JSON round trip (the output the migrate/rollback actions read) is lossless
    const p = await plan([a, b]);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('carries statements, findings and ignores with their reasons', async () => {
    const p = await plan([
      mf('001', '-- rail-actions-ignore: ban-drop-table replaced by v2 table\nDROP TABLE old;\nDROP INDEX idx;'),
    ]);
    expect(p.statements.map((s) => [s.kind, s.line, s.risk])).toEqual([
      ['DropStmt', 2, 'safe'],
      ['DropStmt', 3, 'blocking'],
    ]);
    expect(p.ignored).toEqual([
      { rule: 'ban-drop-table', file: 'migrations/001.sql', line: 2, directiveLine: 1, reason: 'replaced by v2 table' },
    ]);
    expect(p.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['require-concurrent-index-deletion']));
    expect(p.counts).toMatchObject({ statements: 2, ignored: 1 });
    expect(p.rules[0]).toMatchObject({
      rule: 'require-concurrent-index-deletion',
      count: 1,
      risk: 'blocking',
      source: 'squawk',
    });
    expect(p.rules[0]?.safeAlternative).toBe('DROP INDEX CONCURRENTLY');
    expect(p.files[0]?.directives[0]).toMatchObject({
      line: 1,
      reason: 'replaced by v2 table',
      used: ['ban-drop-table'],
    });
    const md = planMarkdown(p);
    expect(md).toContain('**Migration plan: requires-approval**');
    expect(md).toMatch(/\| blocking \| `require-concurrent-index-deletion` \| `migrations\/001.sql:3` \|/);
    expect(md).toContain('`ban-drop-table` at `migrations/001.sql:2`: replaced by v2 table');
    expect(md).toContain(p.planHash);
  });
});

describe('live catalog facts (readCatalog): asked once, exactly what the statements need, and named in the result', () => {
  const facts = (over: Partial<CatalogFacts> = {}): CatalogFacts => ({
    functions: new Map(),
    domains: new Map(),
    columns: new Map(),
    checks: new Map(),
    indexes: new Map(),
    partitioned: new Map(),
    ...over,
  });

  it('collects the questions of every file in one call, before classifying', async () => {
    const asked: CatalogQuestions[] = [];
    const sql = [
      'ALTER TABLE users ADD COLUMN a int DEFAULT app.next_code(), ADD COLUMN b positive_int, ADD COLUMN c text;',
      'ALTER TABLE users ALTER COLUMN name TYPE varchar(50);',
      'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
      'ALTER TABLE tags ADD CONSTRAINT tags_pkey PRIMARY KEY USING INDEX tags_id_uidx;',
      "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
    ].join('\n');
    await analyzeFiles(
      [
        { file: 'a.sql', sql },
        { file: 'b.sql', sql: 'CREATE INDEX i ON users (name);' },
      ],
      {
        readCatalog: (q) => {
          asked.push(q);
          return Promise.resolve(facts());
        },
      },
    );
    expect(asked).toHaveLength(1);
    expect(asked[0]).toEqual({
      functions: ['app.next_code'],
      types: ['positive_int'],
      columns: [
        { table: 'users', column: 'name' },
        { table: 'users', column: 'email' },
      ],
      tables: ['users', 'tags', 'events_2024'],
      indexes: [{ table: 'tags', index: 'tags_id_uidx' }],
      partitionParents: ['events'],
    });
  });

  it('function volatility from pg_proc decides ADD COLUMN … DEFAULT, and the fact is recorded', async () => {
    const sql = 'ALTER TABLE users ADD COLUMN code int DEFAULT app.next_code()';
    const offline = await one(sql);
    expect(rulesOf(offline)).toContain('adding-field-with-default');
    expect(offline.decidedBy?.[0]).toMatch(
      /app\.next_code\(\) is not a known non-volatile built-in and the live catalog was not read: assumed volatile/,
    );
    const stable = await one(sql, {
      readCatalog: () => Promise.resolve(facts({ functions: new Map([['app.next_code', 's']]) })),
    });
    expect(stable).toMatchObject({ risk: 'safe', rewritesTable: false });
    expect(stable.decidedBy?.[0]).toBe(
      "app.next_code() is stable (pg_proc.provolatile = 's'): the default is stored once as the missing value, no rewrite (PG 11+)",
    );
    expect(stable.note).toBe(stable.decidedBy?.[0]);
    const volatile = await one(sql, {
      readCatalog: () => Promise.resolve(facts({ functions: new Map([['app.next_code', 'v']]) })),
    });
    expect(volatile).toMatchObject({ risk: 'blocking', rewritesTable: true });
  });

  it('SET NOT NULL: a validated CHECK (col IS NOT NULL) inside an AND proves it; CHECK (col > 0) does not', async () => {
    const sql = 'ALTER TABLE users ALTER COLUMN age SET NOT NULL';
    const withCheck = (expression: string) => () =>
      Promise.resolve(
        facts({
          columns: new Map([['users.age', { type: 'integer', notNull: false, collation: null, indexes: [] }]]),
          checks: new Map([['users', [{ name: 'users_age_ok', expression }]]]),
        }),
      );
    const proven = await one(sql, { readCatalog: withCheck('(((age IS NOT NULL) AND (age > 0)))') });
    expect(proven).toMatchObject({ risk: 'safe', scansTable: false });
    expect(proven.decidedBy).toEqual(['no scan: NOT NULL proven by valid CHECK constraint users_age_ok']);
    const strict = await one(sql, { readCatalog: withCheck('((age > 0))') });
    expect(rulesOf(strict)).toContain('adding-not-nullable-field');
    expect(strict.decidedBy).toEqual([
      'scan: users.age is nullable and no valid CHECK (age IS NOT NULL) exists on users',
    ]);
    expect(rulesOf(await one(sql, { pgVersion: 11, readCatalog: withCheck('((age IS NOT NULL))') }))).toContain(
      'adding-not-nullable-field',
    );
  });

  it('ALTER COLUMN TYPE … COLLATE: index rebuild when an index depends on the column, catalog-only otherwise', async () => {
    const col = (indexes: string[]) => () =>
      Promise.resolve(
        facts({ columns: new Map([['users.title', { type: 'text', notNull: false, collation: 'default', indexes }]]) }),
      );
    const indexed = await one('ALTER TABLE users ALTER COLUMN title TYPE text COLLATE "C"', {
      readCatalog: col(['users_title_idx']),
    });
    expect(indexed.findings.map((f) => f.rule)).toEqual(['alter-column-rebuilds-index']);
    expect(indexed).toMatchObject({ risk: 'blocking', rewritesTable: false, scansTable: true });
    const bare = await one('ALTER TABLE users ALTER COLUMN title TYPE text COLLATE "C"', { readCatalog: col([]) });
    expect(bare).toMatchObject({ risk: 'safe', scansTable: false });
    expect(bare.decidedBy?.join(' ')).toMatch(/no index depends on the column: catalog-only/);
  });

  it('without the catalog the blocking scans stay visible: PRIMARY KEY USING INDEX, ATTACH PARTITION', async () => {
    const pk = await one('ALTER TABLE tags ADD CONSTRAINT tags_pkey PRIMARY KEY USING INDEX tags_id_uidx');
    expect(pk.findings.map((f) => f.rule)).toContain('adding-not-nullable-field');
    expect(pk.scansTable).toBe(true);
    const attach = await one(
      "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    );
    expect(attach.findings.map((f) => f.rule)).toEqual(['partition-attach-scan']);
    expect(attach).toMatchObject({ lock: 'ACCESS EXCLUSIVE', scansTable: true, tables: ['events', 'events_2024'] });
    // UNIQUE … USING INDEX sets no NOT NULL: still instant.
    expect((await one('ALTER TABLE tags ADD CONSTRAINT tags_u UNIQUE USING INDEX tags_id_uidx')).risk).toBe('safe');
  });

  it('ATTACH PARTITION: a CHECK implying the RANGE bound removes the scan; a DEFAULT partition brings one back', async () => {
    const sql = "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')";
    const read = (hasDefault: boolean) => () =>
      Promise.resolve(
        facts({
          partitioned: new Map([['events', { key: 'RANGE (at)', hasDefault }]]),
          checks: new Map([
            [
              'events_2025',
              [
                {
                  name: 'bound',
                  expression: "(((at IS NOT NULL) AND (at >= '2025-01-01'::date) AND (at < '2026-01-01'::date)))",
                },
              ],
            ],
          ]),
        }),
      );
    const proven = await one(sql, { readCatalog: read(false) });
    expect(proven).toMatchObject({ risk: 'safe', scansTable: false });
    expect(proven.decidedBy).toEqual([
      'no scan of events_2025: the partition bound is implied by valid CHECK constraint bound',
    ]);
    const withDefault = await one(sql, { readCatalog: read(true) });
    expect(withDefault.findings.map((f) => f.message)).toEqual([
      'ATTACH PARTITION on events also scans its DEFAULT partition under ACCESS EXCLUSIVE',
    ]);
    const otherBound = await one(sql.replace("'2026-01-01'", "'2027-01-01'"), { readCatalog: read(false) });
    expect(rulesOf(otherBound)).toContain('partition-attach-scan');
  });

  it('ADD COLUMN … REFERENCES: no check without a default (all NULL), a validation scan with one; constrained domains rewrite', async () => {
    expect(await one('ALTER TABLE orders ADD COLUMN item_id bigint REFERENCES items (id)')).toMatchObject({
      risk: 'safe',
      lock: 'ACCESS EXCLUSIVE',
      scansTable: false,
    });
    expect(
      rulesOf(await one('ALTER TABLE orders ADD COLUMN item_id bigint DEFAULT 1 REFERENCES items (id)')),
    ).toContain('adding-foreign-key-constraint');
    const domain = await one('ALTER TABLE users ADD COLUMN score positive_int', {
      readCatalog: () => Promise.resolve(facts({ domains: new Map([['positive_int', ['positive_int_check']]]) })),
    });
    expect(domain).toMatchObject({ risk: 'blocking', rewritesTable: true });
    expect(domain.decidedBy).toEqual([
      'positive_int is a domain with constraint(s) positive_int_check: the table is rewritten to check every row',
    ]);
  });

  it('identifier-too-long reads quoted names whole, and ignores long words inside literals and comments', async () => {
    const long = 'x'.repeat(64);
    expect(rulesOf(await one(`CREATE TABLE t_ok ("${long}" text)`))).toContain('identifier-too-long');
    expect(rulesOf(await one(`CREATE TABLE t_ok ("a""${'y'.repeat(70)}" text)`))).toContain('identifier-too-long');
    expect(rulesOf(await one(`CREATE TABLE t_ok ("id" text DEFAULT '${long}') -- ${long}`))).not.toContain(
      'identifier-too-long',
    );
  });

  it('ASCII-only files take the fast position path with the same answers', () => {
    const text = 'SELECT 1;\n  ALTER TABLE t ADD c int;\n';
    const src = new SourceText(text);
    const at = text.indexOf('ADD');
    expect(src.positionOfByte(at)).toEqual({ line: 2, column: 17 });
    expect(src.slice(at, at + 3)).toBe('ADD');
    expect(src.byteOfCharIndex(at)).toBe(at);
  });
});
