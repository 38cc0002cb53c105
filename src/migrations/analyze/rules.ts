// The rule catalogue. Ids follow squawk's where squawk has the check (so `-- squawk-ignore x` keeps working);
// extras come from strong_migrations (SM), Atlas (AT), Eugene (EU) or are our own (pgvector, opaque statements).
import { escapeMarkdownCell as cell } from '../../core/text.js';
import { DECISION_RULES } from './decisions.js';
import type { FindingLevel, RiskClass } from './types.js';

export interface RuleInfo {
  id: string;
  risk: RiskClass;
  level: FindingLevel;
  /** Default one-line reason (findings usually say something more specific). */
  reason: string;
  safeAlternative: string;
  source: 'squawk' | 'strong_migrations' | 'atlas' | 'eugene' | 'rail-actions';
  /** squawk's opt-in rules stay off unless enabled. */
  optIn?: boolean;
  /** Certain failure or silently lost work: blocks the plan instead of asking for approval. */
  blocksPlan?: boolean;
}

const list = [
  // ---- squawk (crates/squawk_linter/src/lib.rs, docs/docs/<rule>.md) ----
  {
    id: 'adding-field-with-default',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason:
      'ADD COLUMN with a volatile default, identity, serial or stored generated column rewrites the table under ACCESS EXCLUSIVE',
    safeAlternative:
      'add the column without a default (or with a constant one), then backfill in batches and SET DEFAULT',
  },
  {
    id: 'adding-foreign-key-constraint',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both tables and scans the table to validate it',
    safeAlternative: 'ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then VALIDATE CONSTRAINT in a separate migration',
  },
  {
    id: 'adding-not-nullable-field',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (and fails if a NULL exists)',
    safeAlternative:
      'ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c (separate migration); SET NOT NULL; DROP CONSTRAINT c',
  },
  {
    id: 'adding-required-field',
    risk: 'breaking',
    level: 'error',
    source: 'squawk',
    reason:
      'a NOT NULL column without a default fails on a non-empty table and breaks INSERTs of the running app version',
    safeAlternative:
      'add the column nullable (or with a default), backfill, deploy code that writes it, then add NOT NULL',
  },
  {
    id: 'adding-serial-primary-key-field',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE (and scans for NULLs)',
    safeAlternative: 'CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … PRIMARY KEY USING INDEX',
  },
  {
    id: 'ban-alter-domain-with-add-constraint',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'ALTER DOMAIN ADD CONSTRAINT re-checks every column of every table that uses the domain',
    safeAlternative: 'put the CHECK on the table columns instead (NOT VALID + VALIDATE)',
  },
  {
    id: 'ban-create-domain-with-constraint',
    risk: 'safe',
    level: 'warning',
    source: 'squawk',
    reason: 'domains with CHECK constraints cannot later be changed without a full re-check of every user',
    safeAlternative: 'use a plain domain and CHECK constraints on the columns',
  },
  {
    id: 'ban-char-field',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'char(n) pads with spaces and is almost always a mistake',
    safeAlternative: 'use text (with a CHECK on length if needed)',
  },
  {
    id: 'ban-concurrent-index-creation-in-transaction',
    risk: 'blocking',
    level: 'error',
    source: 'squawk',
    blocksPlan: true,
    reason: 'CONCURRENTLY cannot run inside a transaction block: this migration fails with error 25001',
    safeAlternative: 'move the CONCURRENTLY statement out of BEGIN … COMMIT (the runner executes it on its own)',
  },
  {
    id: 'ban-drop-column',
    risk: 'destructive',
    level: 'error',
    source: 'squawk',
    reason: 'DROP COLUMN loses its data and breaks the running app version if it still reads or writes the column',
    safeAlternative: 'stop using the column in a deploy first, then drop it in a later migration',
  },
  {
    id: 'ban-drop-database',
    risk: 'destructive',
    level: 'error',
    source: 'squawk',
    reason: 'DROP DATABASE loses everything in it',
    safeAlternative: 'do this by hand, never from a migration',
  },
  {
    id: 'ban-drop-not-null',
    risk: 'breaking',
    level: 'warning',
    source: 'squawk',
    reason: 'DROP NOT NULL lets NULLs in that the running app version may not expect',
    safeAlternative: 'make sure every reader handles NULL before dropping the constraint',
  },
  {
    id: 'ban-drop-table',
    risk: 'destructive',
    level: 'error',
    source: 'squawk',
    reason: 'DROP TABLE loses its data and breaks the running app version if it still uses the table',
    safeAlternative: 'stop using the table in a deploy first, back it up, then drop it in a later migration',
  },
  {
    id: 'ban-duplicate-column-assignments',
    risk: 'opaque',
    level: 'error',
    source: 'squawk',
    blocksPlan: true,
    reason: 'the same column is declared or assigned twice: Postgres rejects the statement',
    safeAlternative: 'declare/assign each column once',
  },
  {
    id: 'ban-truncate-cascade',
    risk: 'destructive',
    level: 'error',
    source: 'squawk',
    reason: 'TRUNCATE … CASCADE also empties every table that references it through a foreign key',
    safeAlternative: 'truncate the intended tables explicitly (or DELETE in batches)',
  },
  {
    id: 'ban-uncommitted-transaction',
    risk: 'opaque',
    level: 'error',
    source: 'squawk',
    blocksPlan: true,
    reason: 'BEGIN without COMMIT: the migration "succeeds" but nothing is applied',
    safeAlternative: 'end the transaction with COMMIT (or leave transaction control to the runner)',
  },
  {
    id: 'changing-column-type',
    risk: 'breaking',
    level: 'error',
    source: 'squawk',
    reason:
      'ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE and may break the running app version',
    safeAlternative: 'add a new column, dual-write, backfill in batches, switch reads, drop the old column',
  },
  {
    id: 'constraint-missing-not-valid',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'adding a validated constraint scans the whole table while holding the lock',
    safeAlternative:
      'ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a separate migration (separate transaction)',
  },
  {
    id: 'disallowed-unique-constraint',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'ADD UNIQUE builds its index under ACCESS EXCLUSIVE (reads and writes blocked) and fails on duplicates',
    safeAlternative: 'CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX',
  },
  {
    id: 'identifier-too-long',
    risk: 'safe',
    level: 'warning',
    source: 'squawk',
    reason: 'identifiers longer than 63 bytes are silently truncated by Postgres',
    safeAlternative: 'use a name of at most 63 bytes',
  },
  {
    id: 'prefer-bigint-over-int',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: '32-bit integer columns can overflow; changing the type later rewrites the table',
    safeAlternative: 'use bigint',
  },
  {
    id: 'prefer-bigint-over-smallint',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: '16-bit integer columns overflow easily; changing the type later rewrites the table',
    safeAlternative: 'use bigint',
  },
  {
    id: 'prefer-identity',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'serial columns have awkward ownership/permission semantics',
    safeAlternative: 'use bigint GENERATED ALWAYS AS IDENTITY',
  },
  {
    id: 'prefer-repack',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'VACUUM FULL / CLUSTER rewrite the table under ACCESS EXCLUSIVE',
    safeAlternative: 'pg_repack (or REPACK CONCURRENTLY on PG 19+), outside migrations',
  },
  {
    id: 'prefer-robust-stmts',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'this statement runs outside a transaction; if the file fails halfway it cannot be re-run',
    safeAlternative: 'use IF [NOT] EXISTS so a retry after a partial failure succeeds',
  },
  {
    id: 'prefer-text-field',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'changing a varchar(n) limit later takes ACCESS EXCLUSIVE',
    safeAlternative: 'use text with a CHECK (char_length(col) <= n) constraint',
  },
  {
    id: 'prefer-timestamptz',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'timestamp without time zone drops the offset; comparisons across zones go wrong',
    safeAlternative: 'use timestamptz',
  },
  {
    id: 'renaming-column',
    risk: 'breaking',
    level: 'error',
    source: 'squawk',
    reason: 'renaming a column breaks the running app version that still uses the old name',
    safeAlternative: 'add the new column, dual-write, backfill, switch reads, then drop the old one',
  },
  {
    id: 'renaming-table',
    risk: 'breaking',
    level: 'error',
    source: 'squawk',
    reason: 'renaming a table breaks the running app version that still uses the old name',
    safeAlternative: 'create the new table (or a view with the old name), dual-write, backfill, switch, drop',
  },
  {
    id: 'require-concurrent-index-creation',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'CREATE INDEX without CONCURRENTLY takes SHARE: writes are blocked for the whole build',
    safeAlternative: 'CREATE INDEX CONCURRENTLY (the runner executes it outside the file transaction)',
  },
  {
    id: 'require-concurrent-index-deletion',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table',
    safeAlternative: 'DROP INDEX CONCURRENTLY',
  },
  {
    id: 'require-concurrent-partition-detach',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent',
    safeAlternative: 'ALTER TABLE … DETACH PARTITION … CONCURRENTLY (PG 14+)',
  },
  {
    id: 'require-concurrent-reindex',
    risk: 'blocking',
    level: 'warning',
    source: 'squawk',
    reason: 'REINDEX without CONCURRENTLY blocks writes to the table and reads that use the index',
    safeAlternative: 'REINDEX … CONCURRENTLY',
  },
  {
    id: 'require-enum-value-ordering',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'ALTER TYPE … ADD VALUE without BEFORE/AFTER appends to the end of the enum order',
    safeAlternative: "say where the value goes: ADD VALUE 'x' BEFORE/AFTER 'y'",
  },
  {
    id: 'require-lock-timeout',
    risk: 'safe',
    level: 'warning',
    source: 'squawk',
    reason: 'no lock_timeout: a lock waiting behind a long transaction stalls all traffic on the table',
    safeAlternative: "SET lock_timeout = '5s' at the top of the file (the rail-actions migrate runner sets it)",
  },
  {
    id: 'require-statement-timeout',
    risk: 'safe',
    level: 'warning',
    source: 'squawk',
    reason: 'no statement_timeout: a slow statement holds its lock indefinitely',
    safeAlternative: 'SET statement_timeout at the top of the file (the rail-actions migrate runner sets it)',
  },
  {
    id: 'require-table-schema',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    optIn: true,
    reason: 'an unqualified table name depends on search_path',
    safeAlternative: 'qualify the name with its schema',
  },
  {
    id: 'transaction-nesting',
    risk: 'opaque',
    level: 'warning',
    source: 'squawk',
    reason: "nested or unmatched BEGIN/COMMIT: the runner's transaction boundaries no longer hold",
    safeAlternative: 'leave transaction control to the runner, or balance BEGIN/COMMIT',
  },
  {
    id: 'unused-ignore',
    risk: 'safe',
    level: 'notice',
    source: 'squawk',
    reason: 'this ignore directive suppresses nothing',
    safeAlternative: 'remove it (or fix the rule id)',
  },

  // ---- extras from strong_migrations / Atlas / Eugene ----
  {
    id: 'adding-exclusion-constraint',
    risk: 'blocking',
    level: 'warning',
    source: 'strong_migrations',
    reason: 'an EXCLUDE constraint builds its index and scans under ACCESS EXCLUSIVE and cannot be NOT VALID',
    safeAlternative: 'no online way: build a new table and copy, or accept the lock on a small table',
  },
  {
    id: 'ban-drop-schema',
    risk: 'destructive',
    level: 'error',
    source: 'atlas',
    reason: 'DROP SCHEMA loses every object in it (Atlas DS101)',
    safeAlternative: 'drop the objects deliberately, after the app stopped using them',
  },
  {
    id: 'ban-truncate',
    risk: 'destructive',
    level: 'error',
    source: 'rail-actions',
    reason: 'TRUNCATE deletes every row under ACCESS EXCLUSIVE',
    safeAlternative: 'never truncate production data from a migration',
  },
  {
    id: 'renaming-schema',
    risk: 'breaking',
    level: 'error',
    source: 'strong_migrations',
    reason: 'renaming a schema breaks every query of the running app that names it',
    safeAlternative: 'create the new schema and move objects with compatibility views',
  },
  {
    id: 'renaming-enum-value',
    risk: 'breaking',
    level: 'error',
    source: 'strong_migrations',
    reason: 'renaming an enum value breaks the running app version that still writes the old value',
    safeAlternative: 'add the new value, handle both in the app, backfill, then stop using the old one',
  },
  {
    id: 'ban-drop-constraint',
    risk: 'breaking',
    level: 'warning',
    source: 'atlas',
    reason: 'dropping a constraint removes an integrity guarantee the app may rely on (Atlas CD101)',
    safeAlternative: 're-create it in the same migration set if it is being changed, or confirm nothing relies on it',
  },
  {
    id: 'ban-drop-object',
    risk: 'breaking',
    level: 'warning',
    source: 'rail-actions',
    reason: 'dropping a view/type/sequence/function/extension breaks the running app version if it uses it',
    safeAlternative: 'stop using the object in a deploy first, or re-create it in the same migration set',
  },
  {
    id: 'prefer-jsonb',
    risk: 'safe',
    level: 'notice',
    source: 'strong_migrations',
    reason: 'json has no equality operator (DISTINCT, UNION and GROUP BY fail) and is re-parsed on every access',
    safeAlternative: 'use jsonb',
  },
  {
    id: 'require-concurrent-refresh',
    risk: 'blocking',
    level: 'warning',
    source: 'rail-actions',
    reason: 'REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view for the whole refresh',
    safeAlternative: 'REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index)',
  },
  {
    id: 'alter-column-rebuilds-index',
    risk: 'blocking',
    level: 'warning',
    source: 'rail-actions',
    reason:
      'ALTER COLUMN TYPE/COLLATE that keeps the table still rebuilds every index whose collation or operator class changes, scanning the table under ACCESS EXCLUSIVE',
    safeAlternative:
      'CREATE INDEX CONCURRENTLY a new index with the new collation (on a new column, or as an expression index), switch queries, then drop the old one',
  },
  {
    id: 'partition-attach-scan',
    risk: 'blocking',
    level: 'warning',
    source: 'rail-actions',
    reason:
      'ATTACH PARTITION scans the attached table (and the DEFAULT partition) under ACCESS EXCLUSIVE to check the partition bound',
    safeAlternative:
      'ADD CONSTRAINT c CHECK (key IS NOT NULL AND key >= lo AND key < hi) NOT VALID, VALIDATE CONSTRAINT c, then ATTACH PARTITION (no scan), then DROP CONSTRAINT c',
  },
  {
    id: 'vector-index-build',
    risk: 'safe',
    level: 'notice',
    source: 'rail-actions',
    reason:
      'an HNSW/IVFFlat (pgvector) index build is CPU- and memory-heavy and slow on large tables, even CONCURRENTLY',
    safeAlternative:
      'build CONCURRENTLY off-peak with enough maintenance_work_mem (and max_parallel_maintenance_workers)',
  },
  {
    id: 'index-too-many-columns',
    risk: 'safe',
    level: 'notice',
    source: 'strong_migrations',
    reason: 'a non-unique index on more than three columns rarely helps and costs writes',
    safeAlternative: 'index the most selective leading columns only',
  },
  {
    id: 'data-backfill',
    risk: 'opaque',
    level: 'warning',
    source: 'strong_migrations',
    reason:
      'a data change (UPDATE / INSERT … SELECT / MERGE) locks rows for the whole transaction; its size is unknown',
    safeAlternative: 'backfill in batches outside the schema migration',
  },
  {
    id: 'data-deletion',
    risk: 'destructive',
    level: 'error',
    source: 'rail-actions',
    reason: 'DELETE removes rows',
    safeAlternative: 'make sure the rows are no longer needed (and backed up), delete in batches',
  },
  {
    id: 'opaque-statement',
    risk: 'opaque',
    level: 'warning',
    source: 'strong_migrations',
    reason: 'a DO block, CALL or function call: what it does cannot be inspected',
    safeAlternative: 'write the DDL as plain statements, or review the code and ignore this rule with a reason',
  },
  {
    id: 'unrecognized-statement',
    risk: 'opaque',
    level: 'warning',
    source: 'rail-actions',
    reason: 'a statement type the gate does not classify',
    safeAlternative: 'review it by hand',
  },
  {
    id: 'unparseable-sql',
    risk: 'opaque',
    level: 'error',
    source: 'rail-actions',
    reason: 'the Postgres parser rejects this SQL, so it cannot be analysed (and will likely fail to apply)',
    safeAlternative: 'fix the syntax',
  },
  {
    id: 'opaque-migration',
    risk: 'opaque',
    level: 'warning',
    source: 'rail-actions',
    reason: 'a migration written as JS/TS code: its SQL cannot be analysed',
    safeAlternative: 'review the code by hand',
  },
  {
    id: 'non-transactional-statement',
    risk: 'safe',
    level: 'notice',
    source: 'rail-actions',
    reason: 'this statement cannot run in a transaction block; the runner executes it on its own',
    safeAlternative: 'keep it idempotent (IF [NOT] EXISTS) so a retry after a partial failure succeeds',
  },
] as const satisfies readonly RuleInfo[];

/** Every rule id the analysis can report (a typo in a rule id is a type error). */
export type RuleId = (typeof list)[number]['id'];

export const RULES: ReadonlyMap<string, RuleInfo> = new Map<string, RuleInfo>(list.map((r) => [r.id, r]));

/** Old or alternative spellings accepted in ignore directives (squawk's aliases and the deprecated umbrella rules). */
export const RULE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'prefer-timestamp-tz': ['prefer-timestamptz'],
  'prefer-big-int': ['prefer-bigint-over-int', 'prefer-bigint-over-smallint'],
  'require-timeout-settings': ['require-lock-timeout', 'require-statement-timeout'],
};

/** The rule ids a directive token stands for ([] when unknown). */
export function expandRuleId(id: string): string[] {
  const lower = id.toLowerCase();
  if (RULE_ALIASES[lower]) return [...RULE_ALIASES[lower]];
  return RULES.has(lower) ? [lower] : [];
}

export function rule(id: string): RuleInfo {
  const r = RULES.get(id);
  if (!r) throw new Error(`internal: unknown rule ${id}`);
  return r;
}

/** The rule catalogue as a Markdown document (docs/migrate-gate-rules.md is this, checked by a test). */
export function rulesMarkdown(): string {
  const lines = [
    '# migrate-gate rules',
    '',
    '<!-- Generated from src/migrations/analyze/rules.ts and decisions.ts; test/migrate-analyze.test.ts fails when this file is stale. -->',
    '',
    'Every finding of the migrate gate carries one of these rule ids. Ids shared with',
    '[squawk](https://squawkhq.com/docs/rules) mean the same check, so existing `-- squawk-ignore <rule>` comments keep',
    'working. Suppress a finding with a comment before the statement (or after it on the same line), keeping a reason:',
    '',
    '```sql',
    '-- rail-actions-ignore: ban-drop-column, ban-drop-table the table was archived in JIRA-123',
    'ALTER TABLE users DROP COLUMN legacy_flag;',
    '-- rail-actions-ignore-file: prefer-bigint-over-int legacy schema uses int everywhere',
    '```',
    '',
    'Classes, mildest first: `safe` (applied unattended), `blocking` (long lock, rewrite or scan; weighed by live table',
    'size), `opaque` (cannot be inspected), `breaking` (breaks the running app version), `destructive` (loses data).',
    'With `approval: risky` anything above `safe` needs approval. Rules marked *blocks* stop the plan (certain failure).',
    '',
    '## Decision rules: what PostgreSQL does, and which fact decides',
    '',
    "For changes to tables that already hold data. Lock, rewrite and scan are PostgreSQL 15's behaviour, cited from its",
    'documentation (https://www.postgresql.org/docs/15/<page>); the gate reads the live catalog for the facts in the',
    '"decided by" column and records the deciding fact in the plan (`decidedBy`, and the statement note), e.g. "no scan:',
    'NOT NULL proven by valid CHECK constraint users_email_nn". Tables created earlier in the same pending set are empty:',
    'no lock or scan finding applies to them. Blocking findings are then weighed by live table size (`large-table-rows`).',
    'The labelled corpus in test/fixtures/gate-corpus covers these changes, each label checked on a real server',
    '(relfilenode for rewrites, pg_locks for the lock, pg_stat_xact_user_tables.seq_scan for scans).',
    '',
    '| change | lock | effect | decision | PostgreSQL fact | decided by (live catalog) | rules |',
    '|---|---|---|---|---|---|---|',
    ...DECISION_RULES.map(
      (d) =>
        `| ${cell(d.change)} | ${cell(d.lock)} | ${cell(d.effect)} | ${d.decision} | ${cell(d.fact)} | ${cell(d.catalog ?? '—')} | ${d.rules.map((r) => `\`${r}\``).join(', ') || '—'} |`,
    ),
    '',
    '## Rules',
    '',
    '| rule | class | level | source | why | safer alternative |',
    '|---|---|---|---|---|---|',
    ...[...RULES.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(
        (r) =>
          `| \`${r.id}\`${r.optIn ? ' (opt-in)' : ''} | ${r.risk}${r.blocksPlan ? ', *blocks*' : ''} | ${r.level} | ${r.source} | ${cell(r.reason)} | ${cell(r.safeAlternative)} |`,
      ),
    '',
    `Aliases accepted in ignore comments: ${Object.entries(RULE_ALIASES)
      .map(([a, ids]) => `\`${a}\` → ${ids.map((i) => `\`${i}\``).join(', ')}`)
      .join('; ')}.`,
    '',
  ];
  return lines.join('\n');
}
