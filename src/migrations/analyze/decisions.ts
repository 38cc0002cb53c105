// The gate's decision rules for schema changes on existing tables: what PostgreSQL 15 does (lock, rewrite, scan), the
// documentation statement behind it, the live catalog fact that decides the borderline cases, and the decision.
// Rendered into docs/migrate-gate-rules.md; every row is exercised by the labelled corpus
// (test/fixtures/gate-corpus/corpus.ts), whose labels are checked on a real server.
import type { RuleId } from './rules.js';

export interface DecisionRule {
  change: string;
  lock: string;
  /** What happens to the table's data: catalog-only, scan, index build, rewrite, error. */
  effect: string;
  decision: 'auto' | 'approval';
  /** The PostgreSQL fact, quoted or paraphrased, with its docs page (https://www.postgresql.org/docs/15/…). */
  fact: string;
  /** The live catalog fact that decides it, when one does. */
  catalog?: string;
  /** Rule ids reported when the decision is approval. */
  rules: RuleId[];
}

const NOTES = 'sql-altertable.html, Notes';

export const DECISION_RULES: readonly DecisionRule[] = [
  {
    change: 'ADD COLUMN without DEFAULT, or with a non-volatile DEFAULT (constants, now(), stable/immutable functions)',
    lock: 'ACCESS EXCLUSIVE (brief)',
    effect: 'catalog-only (PG 11+: the default is the stored "missing value")',
    decision: 'auto',
    fact: `${NOTES}: "When a column is added with ADD COLUMN and a non-volatile DEFAULT is specified, the default is evaluated at the time of the statement and the result stored in the table's metadata … In neither case is a rewrite of the table required."`,
    catalog:
      "pg_proc.provolatile of every function in the default ('i'/'s' → no rewrite); unknown functions without the catalog count as volatile",
    rules: [],
  },
  {
    change:
      'ADD COLUMN with a volatile DEFAULT (random(), clock_timestamp(), gen_random_uuid(), nextval/serial), identity or STORED generated column',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'rewrite of the table and its indexes',
    decision: 'approval',
    fact: `${NOTES}: "Adding a column with a volatile DEFAULT or changing the type of an existing column will require the entire table and its indexes to be rewritten." Identity and serial columns are filled from a sequence (volatile); a stored generated column is computed and written for every row (ddl-generated-columns.html)`,
    catalog: "pg_proc.provolatile = 'v'",
    rules: ['adding-field-with-default'],
  },
  {
    change: 'ADD COLUMN of a domain type that has constraints',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'rewrite (every row is checked against the domain)',
    decision: 'approval',
    fact: 'sql-createdomain.html + tablecmds.c ATExecAddColumn: a constrained domain has no metadata-only default (verified: relfilenode changes)',
    catalog: "pg_type.typtype = 'd' with pg_constraint rows (contypid)",
    rules: ['adding-field-with-default'],
  },
  {
    change: 'ADD COLUMN … NOT NULL with a non-volatile DEFAULT',
    lock: 'ACCESS EXCLUSIVE (brief)',
    effect: 'catalog-only: no row can be NULL',
    decision: 'auto',
    fact: `${NOTES}: the non-volatile default is stored once, so the NOT NULL needs no verification`,
    rules: [],
  },
  {
    change: 'ADD COLUMN … NOT NULL without a DEFAULT',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'fails on a table with rows; breaks INSERTs of the running app',
    decision: 'approval',
    fact: 'sql-altertable.html, ADD COLUMN: existing rows get NULL in the new column',
    rules: ['adding-required-field'],
  },
  {
    change: 'ADD COLUMN with CHECK, UNIQUE or PRIMARY KEY; ADD COLUMN … DEFAULT … REFERENCES',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'full scan / index build',
    decision: 'approval',
    fact: `${NOTES}: "Adding a CHECK or NOT NULL constraint requires scanning the table to verify that existing rows meet the constraint"`,
    rules: [
      'constraint-missing-not-valid',
      'disallowed-unique-constraint',
      'adding-serial-primary-key-field',
      'adding-foreign-key-constraint',
    ],
  },
  {
    change: 'ADD COLUMN … REFERENCES without a DEFAULT',
    lock: 'ACCESS EXCLUSIVE on the table, SHARE ROW EXCLUSIVE on the referenced one (brief)',
    effect: 'catalog-only: an all-NULL column references nothing',
    decision: 'auto',
    fact: 'parse_utilcmd.c transformFKConstraints: "adding a column with NULL default, we can safely skip validation of FK constraints" (verified: no scan)',
    rules: [],
  },
  {
    change: 'ALTER COLUMN SET DEFAULT / DROP DEFAULT',
    lock: 'ACCESS EXCLUSIVE (brief)',
    effect: 'catalog-only',
    decision: 'auto',
    fact: 'sql-altertable.html, SET/DROP DEFAULT: "The new default value will only apply in subsequent INSERT or UPDATE commands; it does not cause rows already in the table to change."',
    rules: [],
  },
  {
    change: 'ALTER COLUMN SET NOT NULL',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'full scan, skipped when a valid CHECK proves the column non-null (PG 12+)',
    decision: 'approval',
    fact: 'sql-altertable.html, SET/DROP NOT NULL: "Ordinarily this is checked during the ALTER TABLE by scanning the entire table; however, if a valid CHECK constraint is found which proves no NULL can exist, then the table scan is skipped"',
    catalog:
      'pg_attribute.attnotnull; validated pg_constraint CHECKs whose top-level AND contains "col IS NOT NULL" (CHECK (col > 0) passes NULLs and proves nothing) → auto',
    rules: ['adding-not-nullable-field'],
  },
  {
    change:
      'ALTER COLUMN TYPE, binary-coercible (varchar(n) → varchar(m ≥ n), varchar → text, text → varchar, numeric(p,s) → numeric(p2 ≥ p, s), same type without modifier, vector(n) → vector)',
    lock: 'ACCESS EXCLUSIVE (brief)',
    effect: 'catalog-only; indexes kept',
    decision: 'auto',
    fact: `${NOTES}: "if the USING clause does not change the column contents and the old type is either binary coercible to the new type or an unconstrained domain over the new type, a table rewrite is not needed"`,
    catalog: 'format_type(atttypid, atttypmod) of the column',
    rules: [],
  },
  {
    change: 'ALTER COLUMN TYPE otherwise (int → bigint, shorter varchar, other numeric scale, any USING)',
    lock: 'ACCESS EXCLUSIVE',
    effect:
      'rewrite of the table and its indexes (or an error on data that does not convert, e.g. vector(768) → vector(1536))',
    decision: 'approval',
    fact: `${NOTES}: changing the type of an existing column "will require the entire table and its indexes to be rewritten"`,
    catalog: 'format_type of the column',
    rules: ['changing-column-type'],
  },
  {
    change: 'ALTER COLUMN TYPE … COLLATE changing the collation of an indexed column',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'no table rewrite, but every index on the column is rebuilt (a full scan each)',
    decision: 'approval',
    fact: `${NOTES}: "if the collation for a column has been changed, an index rebuild is always required because the new sort order might be different"`,
    catalog: 'pg_attribute.attcollation and the indexes depending on the column (pg_depend)',
    rules: ['alter-column-rebuilds-index'],
  },
  {
    change: 'ADD CHECK / FOREIGN KEY without NOT VALID',
    lock: 'ACCESS EXCLUSIVE (CHECK); SHARE ROW EXCLUSIVE on both tables (FOREIGN KEY)',
    effect: 'full scan',
    decision: 'approval',
    fact: `${NOTES}: "Adding a CHECK or NOT NULL constraint requires scanning the table to verify that existing rows meet the constraint"; ADD table_constraint: "Addition of a foreign key constraint requires a SHARE ROW EXCLUSIVE lock on the referenced table"`,
    rules: ['constraint-missing-not-valid', 'adding-foreign-key-constraint'],
  },
  {
    change: 'ADD CHECK / FOREIGN KEY … NOT VALID, then VALIDATE CONSTRAINT in a later transaction',
    lock: 'ACCESS EXCLUSIVE / SHARE ROW EXCLUSIVE (brief), then SHARE UPDATE EXCLUSIVE for the scan',
    effect: 'the scan runs while reads and writes go on',
    decision: 'auto',
    fact: 'sql-altertable.html, VALIDATE CONSTRAINT: "Validation acquires only a SHARE UPDATE EXCLUSIVE lock on the table being altered"',
    rules: [],
  },
  {
    change: 'ADD PRIMARY KEY / UNIQUE / EXCLUDE (builds its index)',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'index build (full scan) while reads and writes wait',
    decision: 'approval',
    fact: 'sql-altertable.html, ADD table_constraint: the index is built under the ALTER TABLE lock; NOT VALID "is currently only allowed for foreign key and CHECK constraints"',
    rules: ['adding-serial-primary-key-field', 'disallowed-unique-constraint', 'adding-exclusion-constraint'],
  },
  {
    change: 'ADD UNIQUE … USING INDEX; ADD PRIMARY KEY … USING INDEX on NOT NULL (or CHECK-proven) columns',
    lock: 'ACCESS EXCLUSIVE (brief)',
    effect: 'catalog-only: the existing index becomes the constraint',
    decision: 'auto',
    fact: 'sql-altertable.html, ADD table_constraint_using_index',
    catalog: 'the index columns (pg_index.indkey), their attnotnull and CHECK proofs',
    rules: [],
  },
  {
    change: 'ADD PRIMARY KEY … USING INDEX on nullable columns',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'full scan (the implied SET NOT NULL)',
    decision: 'approval',
    fact: 'sql-altertable.html, ADD table_constraint_using_index: "if the index\'s columns are not already marked NOT NULL, then this command will attempt to do ALTER COLUMN SET NOT NULL against each such column"',
    catalog: 'the index columns and their NOT NULL proofs; unknown without the catalog → approval',
    rules: ['adding-not-nullable-field'],
  },
  {
    change: 'CREATE INDEX (btree, hnsw, ivfflat …) without CONCURRENTLY',
    lock: 'SHARE (writes blocked)',
    effect: 'index build (full scan)',
    decision: 'approval',
    fact: 'sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY: "locks the table to be indexed against writes and performs the entire index build with a single scan of the table"',
    rules: ['require-concurrent-index-creation'],
  },
  {
    change: 'CREATE INDEX CONCURRENTLY',
    lock: 'SHARE UPDATE EXCLUSIVE',
    effect: 'two scans while writes go on (not in a transaction block)',
    decision: 'auto',
    fact: 'sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY: "building indexes without locking out writes"',
    rules: [],
  },
  {
    change: 'ATTACH PARTITION',
    lock: 'SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE on the attached table (and on a DEFAULT partition)',
    effect:
      'full scan of the attached table (and of the DEFAULT partition), skipped when a valid CHECK implies the bound',
    decision: 'approval',
    fact: 'sql-altertable.html, ATTACH PARTITION: "a full table scan is performed to check that existing rows in the table do not violate the partition constraint. It is possible to avoid this scan by adding a valid CHECK constraint to the table that allows only rows satisfying the desired partition constraint before running this command"',
    catalog:
      "pg_get_partkeydef of the parent, pg_partitioned_table.partdefid, and the attached table's validated CHECKs (RANGE: key IS NOT NULL AND key >= lower AND key < upper → auto)",
    rules: ['partition-attach-scan'],
  },
  {
    change: 'SET (fillfactor …), SET STATISTICS, COMMENT ON, ALTER TYPE … ADD VALUE',
    lock: 'SHARE UPDATE EXCLUSIVE or none',
    effect: 'catalog-only',
    decision: 'auto',
    fact: 'sql-altertable.html, SET ( storage_parameter ): "SHARE UPDATE EXCLUSIVE lock will be taken for fillfactor, toast and autovacuum storage parameters"; "SET STATISTICS acquires a SHARE UPDATE EXCLUSIVE lock"; sql-altertype.html: ADD VALUE may run in a transaction block (PG 12+)',
    rules: [],
  },
  {
    change: 'SET TABLESPACE, SET LOGGED/UNLOGGED, CLUSTER, VACUUM FULL',
    lock: 'ACCESS EXCLUSIVE',
    effect: 'rewrite',
    decision: 'approval',
    fact: 'sql-altertable.html, SET LOGGED/UNLOGGED and SET TABLESPACE; sql-cluster.html: "an ACCESS EXCLUSIVE lock is acquired"',
    rules: ['prefer-repack'],
  },
  {
    change: 'DROP COLUMN / TABLE / SCHEMA, TRUNCATE, DELETE',
    lock: 'ACCESS EXCLUSIVE (DELETE: ROW EXCLUSIVE)',
    effect: 'data loss (DROP COLUMN is catalog-only, but the data is gone for the app)',
    decision: 'approval',
    fact: `${NOTES}: "The DROP COLUMN form does not physically remove the column, but simply makes it invisible to SQL operations"`,
    rules: ['ban-drop-column', 'ban-drop-table', 'ban-drop-schema', 'ban-truncate', 'data-deletion'],
  },
  {
    change: 'RENAME table/column/schema, DROP NOT NULL, DROP CONSTRAINT',
    lock: 'ACCESS EXCLUSIVE (brief)',
    effect: 'catalog-only, but breaks the app version still running',
    decision: 'approval',
    fact: 'sql-altertable.html, RENAME / DROP NOT NULL: catalog changes the running code does not expect',
    rules: ['renaming-table', 'renaming-column', 'renaming-schema', 'ban-drop-not-null', 'ban-drop-constraint'],
  },
];
