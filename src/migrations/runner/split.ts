// Splits a migration file into statements with the real Postgres parser and classifies what must run outside a
// transaction block. Offsets from libpg-query are UTF-8 BYTE offsets: slicing is done on a Buffer, never on the JS string.
import { parse } from 'libpg-query';
import { UserFacingError } from '../../core/errors.js';
import { quoteQualified } from '../../core/sql.js';

export interface SplitStatement {
  /** Statement text without the trailing semicolon. */
  sql: string;
  /** 1-based line of the statement's first character in the file. */
  line: number;
  /** The AST node type (IndexStmt, AlterTableStmt, …). */
  nodeType: string;
  /** False for statements Postgres refuses inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, …). */
  transactional: boolean;
  /** An explicit BEGIN/COMMIT/ROLLBACK/SAVEPOINT written in the file. */
  transactionControl: boolean;
  /** CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY: a failure can leave an INVALID index behind. */
  buildsIndexConcurrently: boolean;
  /** For CREATE INDEX CONCURRENTLY with an explicit name: where the index will live (for leftover cleanup). */
  index?: { schema?: string; name: string };
  /** CREATE INDEX CONCURRENTLY: the table it builds on (named or not). */
  table?: RelationRef;
  /** DROP INDEX CONCURRENTLY: the indexes it drops. */
  dropsIndexes?: RelationRef[];
  /** ALTER TABLE … DETACH PARTITION … CONCURRENTLY: the partitioned table and the partition. */
  detach?: { parent: RelationRef; partition: RelationRef };
  /** For transactionControl statements: TRANS_STMT_BEGIN, TRANS_STMT_COMMIT, TRANS_STMT_ROLLBACK, … */
  transactionKind?: string;
  /** COMMIT AND CHAIN / ROLLBACK AND CHAIN: the transaction continues after it. */
  chain?: boolean;
}

/** A table or index as written in the statement (schema only when qualified). */
export interface RelationRef {
  schema?: string;
  name: string;
}

/** The reference as SQL: "schema"."name" or "name" (resolved through search_path like the statement itself). */
export function quoteRelation(ref: RelationRef): string {
  return quoteQualified(ref.schema, ref.name);
}

function rangeVar(v: unknown): RelationRef | undefined {
  const n = asNode(v);
  if (!n || typeof n.relname !== 'string') return undefined;
  return { name: n.relname, ...(typeof n.schemaname === 'string' ? { schema: n.schemaname } : {}) };
}

type Node = Record<string, unknown>;

function asNode(v: unknown): Node | undefined {
  return v && typeof v === 'object' ? (v as Node) : undefined;
}

function hasDefElem(list: unknown, name: string): boolean {
  if (!Array.isArray(list)) return false;
  return list.some((item) => asNode(asNode(item)?.DefElem)?.defname === name);
}

/** Why a statement cannot run in a transaction block, or undefined when it can (Flyway's list + the PG docs). */
export function nonTransactionalReason(nodeType: string, node: Node): string | undefined {
  switch (nodeType) {
    case 'IndexStmt':
      return node.concurrent ? 'CREATE INDEX CONCURRENTLY' : undefined;
    case 'DropStmt':
      return node.concurrent ? 'DROP INDEX CONCURRENTLY' : undefined;
    case 'ReindexStmt': {
      if (hasDefElem(node.params, 'concurrently')) return 'REINDEX CONCURRENTLY';
      const kind = typeof node.kind === 'string' ? node.kind : '';
      return /SCHEMA|SYSTEM|DATABASE/.test(kind) ? 'REINDEX SCHEMA/SYSTEM/DATABASE' : undefined;
    }
    case 'VacuumStmt':
      return node.is_vacuumcmd ? 'VACUUM' : undefined;
    case 'ClusterStmt':
      return node.relation ? undefined : 'CLUSTER (all tables)';
    case 'CreatedbStmt':
    case 'DropdbStmt':
      return 'CREATE/DROP DATABASE';
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return 'CREATE/DROP TABLESPACE';
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
      return 'CREATE/DROP SUBSCRIPTION';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'DiscardStmt':
      return node.target === 'DISCARD_ALL' ? 'DISCARD ALL' : undefined;
    case 'AlterTableStmt': {
      const cmds = Array.isArray(node.cmds) ? node.cmds : [];
      const detachConcurrently = cmds.some((c) => {
        const cmd = asNode(asNode(c)?.AlterTableCmd);
        return cmd?.subtype === 'AT_DetachPartition' && asNode(asNode(cmd.def)?.PartitionCmd)?.concurrent === true;
      });
      return detachConcurrently ? 'DETACH PARTITION CONCURRENTLY' : undefined;
    }
    default:
      return undefined;
  }
}

function lineAt(buf: Buffer, byteOffset: number): number {
  let line = 1;
  for (let i = 0; i < byteOffset && i < buf.length; i++) if (buf[i] === 0x0a) line++;
  return line;
}

function lineAtCodePoint(text: string, position: number): number {
  let line = 1;
  let i = 0;
  for (const ch of text) {
    if (i++ >= position) break;
    if (ch === '\n') line++;
  }
  return line;
}

/** Parse error with the file and line, as users need to find it. */
export class SqlParseError extends UserFacingError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, detail: string) {
    super(`${file}:${line}: cannot parse SQL: ${detail}`);
    this.name = 'SqlParseError';
    this.file = file;
    this.line = line;
  }
}

export async function splitStatements(sqlText: string, file: string): Promise<SplitStatement[]> {
  const buf = Buffer.from(sqlText, 'utf8');
  let result: Awaited<ReturnType<typeof parse>>;
  try {
    result = await parse(sqlText);
  } catch (err) {
    const details = (err as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails;
    // Unlike stmt_location, the error cursor is a 0-based CHARACTER (code point) position, as Postgres reports it.
    const line = details?.cursorPosition !== undefined ? lineAtCodePoint(sqlText, details.cursorPosition) : 1;
    throw new SqlParseError(file, line, details?.message ?? (err instanceof Error ? err.message : String(err)));
  }
  const out: SplitStatement[] = [];
  for (const raw of result.stmts ?? []) {
    // Zero values are omitted (protobuf style): no stmt_location = 0, no stmt_len = to the end of the input.
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : buf.length;
    const slice = buf.subarray(start, end).toString('utf8');
    const text = slice.trim();
    if (!text) continue;
    // Leading whitespace/comments may be included depending on the parser build: find where the text really starts.
    const lead = Buffer.byteLength(slice.slice(0, slice.length - slice.trimStart().length), 'utf8');
    const stmtNode = asNode(raw.stmt) ?? {};
    const nodeType = Object.keys(stmtNode)[0] ?? 'Unknown';
    const node = asNode(stmtNode[nodeType]) ?? {};
    const reason = nonTransactionalReason(nodeType, node);
    const statement: SplitStatement = {
      sql: text,
      line: lineAt(buf, start + lead),
      nodeType,
      transactional: reason === undefined,
      transactionControl: nodeType === 'TransactionStmt',
      buildsIndexConcurrently:
        (nodeType === 'IndexStmt' && node.concurrent === true) ||
        (nodeType === 'ReindexStmt' && hasDefElem(node.params, 'concurrently')),
    };
    if (nodeType === 'IndexStmt' && node.concurrent === true) {
      const table = rangeVar(node.relation);
      if (table) statement.table = table;
      // An index always lives in its table's schema.
      if (typeof node.idxname === 'string')
        statement.index = { name: node.idxname, ...(table?.schema ? { schema: table.schema } : {}) };
    }
    if (
      nodeType === 'DropStmt' &&
      node.concurrent === true &&
      node.removeType === 'OBJECT_INDEX' &&
      Array.isArray(node.objects)
    ) {
      statement.dropsIndexes = node.objects.flatMap((o) => {
        const names = (asNode(asNode(o)?.List)?.items as unknown[] | undefined)?.map(
          (i) => asNode(asNode(i)?.String)?.sval,
        );
        if (!names?.length || names.some((x) => typeof x !== 'string')) return [];
        const parts = names as string[];
        const name = parts[parts.length - 1] as string;
        return [parts.length > 1 ? { schema: parts[parts.length - 2] as string, name } : { name }];
      });
    }
    if (nodeType === 'AlterTableStmt' && reason === 'DETACH PARTITION CONCURRENTLY') {
      const parent = rangeVar(node.relation);
      const cmd = (Array.isArray(node.cmds) ? node.cmds : [])
        .map((c) => asNode(asNode(c)?.AlterTableCmd))
        .find((c) => c?.subtype === 'AT_DetachPartition');
      const partition = rangeVar(asNode(asNode(cmd?.def)?.PartitionCmd)?.name);
      if (parent && partition) statement.detach = { parent, partition };
    }
    if (nodeType === 'TransactionStmt') {
      if (typeof node.kind === 'string') statement.transactionKind = node.kind;
      if (node.chain === true) statement.chain = true;
    }
    out.push(statement);
  }
  return out;
}
