// Per-group progress of a migration file, so a run that dies half-way (SIGTERM, SIGKILL, a lost connection, a failed
// statement) leaves a state the next run can finish instead of one it trips over.
//
// A file is cut into statement groups (planGroups):
//   transaction  consecutive statements that can run in a transaction block: one BEGIN … COMMIT of ours
//   block        a BEGIN … COMMIT/ROLLBACK written in the file, run as written
//   alone        one statement PostgreSQL refuses inside a transaction block (CREATE/DROP INDEX CONCURRENTLY,
//                REINDEX CONCURRENTLY, VACUUM, DETACH PARTITION CONCURRENTLY …), run in autocommit
// In a file that runs without a transaction (dbmate `transaction:false`, `-- rail-actions:no-transaction`) and outside
// the BEGIN … COMMIT blocks of a file that has them, every statement is its own group, as autocommit would run it.
//
// A file of ONE transaction needs no progress: its statements and the tool's history row commit together. Any other
// file records each group in rail_actions.migration_progress:
//   - a transaction/block group inserts its row in its own transaction, so the row exists iff its statements committed;
//   - an alone group writes a "started" row (finished_at NULL) before the statement and sets finished_at after it, so
//     a started row means "may have run, fully or partly": the next run inspects the database before re-running it;
//   - the tool's history row is written only when the last group is done, in the same transaction that deletes the
//     file's progress rows. Until then the tool (and its own migrator, e.g. `prisma migrate deploy`) sees the file as
//     pending, never as applied.
// The next run, under the advisory lock, skips the finished groups of a pending file whose content is unchanged and
// resumes at the first unfinished one; it refuses to resume a file edited after some of it committed.
import type { ClientBase } from 'pg';
import { UserFacingError } from '../../core/errors.js';
import { quoteLiteral } from '../../core/sql.js';
import { sha256Hex } from '../hash.js';
import type { Anomaly, MigrationFile, ToolName } from '../types.js';
import type { SplitStatement } from './split.js';

export const PROGRESS_SCHEMA = 'rail_actions';
export const PROGRESS_TABLE_NAME = 'migration_progress';
export const PROGRESS_TABLE = `"${PROGRESS_SCHEMA}"."${PROGRESS_TABLE_NAME}"`;

export type GroupKind = 'transaction' | 'block' | 'alone';

export interface StatementGroup {
  /** 1-based position in the file. */
  number: number;
  kind: GroupKind;
  statements: SplitStatement[];
  firstLine: number;
  lastLine: number;
  /** sha256 of the group's statement texts: the same file split differently (another rail-actions version) is noticed. */
  hash: string;
  /** A block that ends in ROLLBACK commits nothing. */
  commits: boolean;
}

/** A file whose BEGIN/COMMIT structure rail-actions cannot run group by group; the message names the line. */
export class TransactionStructureError extends UserFacingError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, detail: string) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'TransactionStructureError';
    this.file = file;
    this.line = line;
  }
}

function makeGroup(number: number, kind: GroupKind, statements: SplitStatement[], commits = true): StatementGroup {
  const last = statements[statements.length - 1] as SplitStatement;
  return {
    number,
    kind,
    statements,
    firstLine: (statements[0] as SplitStatement).line,
    lastLine: last.line + (last.sql.match(/\n/g)?.length ?? 0),
    hash: sha256Hex(statements.map((s) => s.sql).join('\u0000')),
    commits,
  };
}

export function planGroups(
  statements: SplitStatement[],
  opts: { file: string; noTransaction?: boolean },
): StatementGroup[] {
  const groups: StatementGroup[] = [];
  const add = (kind: GroupKind, list: SplitStatement[], commits = true) =>
    groups.push(makeGroup(groups.length + 1, kind, list, commits));
  const single = (s: SplitStatement) => add(s.transactional ? 'transaction' : 'alone', [s]);

  if (!statements.some((s) => s.transactionControl)) {
    let run: SplitStatement[] = [];
    const flush = () => {
      if (run.length) add('transaction', run);
      run = [];
    };
    for (const s of statements) {
      if (s.transactional && !opts.noTransaction) {
        run.push(s);
      } else {
        flush();
        single(s);
      }
    }
    flush();
    return groups;
  }

  let block: SplitStatement[] | undefined;
  for (const s of statements) {
    const kind = s.transactionKind ?? '';
    if (!block) {
      if (!s.transactionControl) single(s);
      else if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') block = [s];
      else
        throw new TransactionStructureError(
          opts.file,
          s.line,
          `${s.sql.split(/\s+/)[0]?.toUpperCase() ?? kind} outside a BEGIN … COMMIT block; rail-actions runs files whose transactions are BEGIN … COMMIT (or ROLLBACK) blocks`,
        );
      continue;
    }
    const begin = block[0] as SplitStatement;
    if (!s.transactional) {
      throw new TransactionStructureError(
        opts.file,
        s.line,
        `${s.nodeType} cannot run inside the transaction block that starts at line ${begin.line}; move it after the COMMIT`,
      );
    }
    block.push(s);
    if (
      !s.transactionControl ||
      kind === 'TRANS_STMT_SAVEPOINT' ||
      kind === 'TRANS_STMT_RELEASE' ||
      kind === 'TRANS_STMT_ROLLBACK_TO'
    )
      continue;
    if ((kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') && !s.chain) {
      add('block', block, kind === 'TRANS_STMT_COMMIT');
      block = undefined;
      continue;
    }
    throw new TransactionStructureError(
      opts.file,
      s.line,
      `${s.sql.split('\n')[0]} inside the transaction block that starts at line ${begin.line} is not supported; end each block with a plain COMMIT or ROLLBACK`,
    );
  }
  if (block) {
    const begin = block[0] as SplitStatement;
    throw new TransactionStructureError(
      opts.file,
      begin.line,
      'BEGIN without a matching COMMIT: the transaction would be left open; end it with COMMIT',
    );
  }
  return groups;
}

/** The one group of a file that needs no progress rows: its statements and the history row commit together. */
export function isSingleTransaction(groups: StatementGroup[]): boolean {
  const only = groups[0];
  return groups.length === 1 && only !== undefined && only.kind !== 'alone' && only.commits;
}

/** What identifies the content a file's progress rows were written for: the SQL that runs (the up section). */
export function contentChecksum(file: MigrationFile): string {
  return sha256Hex(file.sql ?? '');
}

export interface ProgressKey {
  /** The tool's history table the file will be recorded in (ToolAdapter.historyTable). */
  history: string;
  tool: string;
  migration: string;
  file: string;
  checksum: string;
  groups: number;
}

export interface ProgressRow {
  history: string;
  tool: string;
  migration: string;
  file: string;
  checksum: string;
  group: number;
  groups: number;
  firstLine: number;
  lastLine: number;
  statements: number;
  statementHash: string;
  startedAt: Date;
  /** null: a statement outside a transaction started and its completion was never recorded. */
  finishedAt: Date | null;
  /** Concurrent index builds: the table it builds on (qualified), null for REINDEX. */
  target: string | null;
  /**
   * Concurrent index builds: CREATE INDEX — the indexes on `target` before it started; REINDEX — the INVALID indexes
   * in the database before it started. Anything else that is there now was made by the build.
   */
  indexesBefore: string[] | null;
}

export async function progressTableExists(client: ClientBase): Promise<boolean> {
  const r = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [PROGRESS_TABLE]);
  return r.rows[0]?.t != null;
}

/** Created on first need only (a database whose files are all single transactions never gets it). */
export async function ensureProgressTable(client: ClientBase): Promise<void> {
  if (await progressTableExists(client)) return;
  // Checked first: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege when the schema exists.
  const schema = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [
    PROGRESS_SCHEMA,
  ]);
  if (!schema.rows[0]?.n) await client.query(`CREATE SCHEMA IF NOT EXISTS "${PROGRESS_SCHEMA}"`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (
  history        text        NOT NULL,
  tool           text        NOT NULL,
  migration      text        NOT NULL,
  file           text        NOT NULL,
  checksum       char(64)    NOT NULL,
  group_no       integer     NOT NULL,
  groups         integer     NOT NULL,
  first_line     integer     NOT NULL,
  last_line      integer     NOT NULL,
  statements     integer     NOT NULL,
  statement_hash char(64)    NOT NULL,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  target         text,
  indexes_before text[],
  PRIMARY KEY (history, migration, group_no)
)`);
  await client.query(
    `COMMENT ON TABLE ${PROGRESS_TABLE} IS 'rail-actions: statement groups of migration files that an interrupted run left partly applied; the next rail-actions migrate resumes them. Rows exist only while a file is unfinished.'`,
  );
}

// The table's columns under ProgressRow's names, so rows need no mapping (the char(64) hashes without padding).
const PROGRESS_COLUMNS = `history, tool, migration, file, trim(checksum) AS checksum, group_no AS "group", groups,
  first_line AS "firstLine", last_line AS "lastLine", statements, trim(statement_hash) AS "statementHash",
  started_at AS "startedAt", finished_at AS "finishedAt", target, indexes_before AS "indexesBefore"`;

/** The progress rows of one history (all files, or one), oldest group first; none when the table does not exist. */
export async function readProgress(client: ClientBase, history: string, migration?: string): Promise<ProgressRow[]> {
  if (!(await progressTableExists(client))) return [];
  const r = await client.query<ProgressRow>(
    `SELECT ${PROGRESS_COLUMNS} FROM ${PROGRESS_TABLE} WHERE history = $1 AND ($2::text IS NULL OR migration = $2) ORDER BY migration, group_no`,
    [history, migration ?? null],
  );
  return r.rows;
}

/** A transaction/block group is done: written inside that group's transaction. */
export async function recordGroupDone(client: ClientBase, key: ProgressKey, g: StatementGroup): Promise<void> {
  await upsert(client, key, g, { finished: true, target: null, indexesBefore: null });
}

/** An alone group is about to run: committed (autocommit) before the statement starts. */
export async function recordGroupStarted(
  client: ClientBase,
  key: ProgressKey,
  g: StatementGroup,
  target: string | null,
  indexesBefore: string[] | null,
): Promise<void> {
  await upsert(client, key, g, { finished: false, target, indexesBefore });
}

export async function recordGroupFinished(client: ClientBase, key: ProgressKey, g: StatementGroup): Promise<void> {
  await client.query(
    `UPDATE ${PROGRESS_TABLE} SET finished_at = now() WHERE history = $1 AND migration = $2 AND group_no = $3`,
    [key.history, key.migration, g.number],
  );
}

export async function deleteProgress(client: ClientBase, history: string, migration: string): Promise<void> {
  // The table may not exist: a single-transaction file never created it.
  if (await progressTableExists(client))
    await client.query(`DELETE FROM ${PROGRESS_TABLE} WHERE history = $1 AND migration = $2`, [history, migration]);
}

async function upsert(
  client: ClientBase,
  key: ProgressKey,
  g: StatementGroup,
  o: { finished: boolean; target: string | null; indexesBefore: string[] | null },
): Promise<void> {
  await client.query(
    `INSERT INTO ${PROGRESS_TABLE} (history, tool, migration, file, checksum, group_no, groups, first_line, last_line, statements, statement_hash, started_at, finished_at, target, indexes_before)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), CASE WHEN $12::boolean THEN now() END, $13, $14)
     ON CONFLICT (history, migration, group_no) DO UPDATE SET
       tool = EXCLUDED.tool, file = EXCLUDED.file, checksum = EXCLUDED.checksum, groups = EXCLUDED.groups,
       first_line = EXCLUDED.first_line, last_line = EXCLUDED.last_line, statements = EXCLUDED.statements,
       statement_hash = EXCLUDED.statement_hash, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
       target = EXCLUDED.target, indexes_before = EXCLUDED.indexes_before`,
    [
      key.history,
      key.tool,
      key.migration,
      key.file,
      key.checksum,
      g.number,
      key.groups,
      g.firstLine,
      g.lastLine,
      g.statements.length,
      g.hash,
      o.finished,
      o.target,
      o.indexesBefore,
    ],
  );
}

/** "lines 3–5" / "line 3". */
export function linesOf(g: { firstLine: number; lastLine: number }): string {
  return g.firstLine === g.lastLine ? `line ${g.firstLine}` : `lines ${g.firstLine}–${g.lastLine}`;
}

/** "groups 1–2 of 3" style list of group numbers: "1, 2 and 4". */
export function listGroups(numbers: number[]): string {
  if (numbers.length <= 1) return numbers.join('');
  return `${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
}

/**
 * For the gate: what an interrupted run left of each pending file, from the progress rows alone. A file listed here
 * is pending in the tool's history (its history row is written last) and the migrate action resumes it at `resumeAt`
 * when its content is unchanged (`sameContent`), or refuses it otherwise.
 */
export interface InterruptedFile {
  migration: string;
  file: string;
  groups: number;
  committedGroups: number[];
  resumeAt: number;
  sameContent: boolean;
  since: Date;
}

export async function interruptedFiles(
  client: ClientBase,
  history: string,
  files: MigrationFile[],
): Promise<InterruptedFile[]> {
  const rows = await readProgress(client, history);
  const byMigration = new Map<string, ProgressRow[]>();
  for (const r of rows) byMigration.set(r.migration, [...(byMigration.get(r.migration) ?? []), r]);
  const out: InterruptedFile[] = [];
  for (const [migration, list] of byMigration) {
    const first = list[0] as ProgressRow;
    const file = files.find((f) => f.id === migration);
    const committed = list.filter((r) => r.finishedAt).map((r) => r.group);
    let resumeAt = 1;
    while (committed.includes(resumeAt)) resumeAt++;
    out.push({
      migration,
      file: file?.relPath ?? first.file,
      groups: first.groups,
      committedGroups: committed,
      resumeAt,
      sameContent: file !== undefined && contentChecksum(file) === first.checksum,
      since: list.reduce((d, r) => (r.startedAt < d ? r.startedAt : d), first.startedAt),
    });
  }
  return out;
}

/**
 * golang-migrate marks its history dirty while a file runs; when the dirty file is one an interrupted rail-actions run
 * left with progress rows, the next run resumes it, so the flag is ours and not a reason to stop.
 */
export function isOwnDirtyFlag(
  a: Anomaly,
  tool: ToolName,
  files: MigrationFile[],
  interruptedIds: ReadonlySet<string>,
): boolean {
  return (
    a.kind === 'dirty' &&
    tool === 'golang-migrate' &&
    files.some((f) => f.relPath === a.file && interruptedIds.has(f.id))
  );
}

/** One line on an interrupted file: what committed, and where the next run resumes (or why it cannot). */
export function describeInterrupted(i: InterruptedFile): string {
  const committed = i.committedGroups.length
    ? `statement group${i.committedGroups.length === 1 ? '' : 's'} ${i.committedGroups.join(', ')} of ${i.groups} committed`
    : `none of its ${i.groups} statement groups committed`;
  const since = i.since.toISOString();
  if (i.sameContent)
    return `${i.file} was interrupted (${since}; ${committed}); migrate resumes it at group ${i.resumeAt}`;
  if (i.committedGroups.length === 0)
    return `${i.file} was interrupted (${since}; ${committed}) and changed since; migrate runs it from the start`;
  return `${i.file} was interrupted (${since}; ${committed}) and changed since: migrate refuses to resume it. Restore the file as it was, or finish or undo those statements by hand and then DELETE FROM ${PROGRESS_TABLE} WHERE migration = ${quoteLiteral(i.migration)}`;
}
