// Risk analysis of pending migrations with the real Postgres parser (libpg-query). Each file is parsed once; statements
// are classified (lock, rewrite/scan, transaction needs, rules) with knowledge of the whole pending set (tables created
// earlier are empty; NOT VALID + VALIDATE pairs; objects dropped and re-created), then inline ignores and live table
// sizes adjust the classes. Never throws on bad SQL: unparseable text becomes an opaque statement with file and line.
import './analyze/wasm-dirname.js';
import { readFile } from 'node:fs/promises';
import { parse, scan } from 'libpg-query';
import { asList, asNode, child, collectNodes, names, rangeVarName, str, unwrap, type Node } from './analyze/ast.js';
import { checkConjuncts, comparisonWith, emptyQuestions, provesNotNull, type CatalogFacts, type CatalogQuestions, type LiveCheck } from './analyze/catalog.js';
import { directiveCovers, findDirectives, type Directive } from './analyze/directives.js';
import { rule, RULES } from './analyze/rules.js';
import { bareName, classifyStatement, createdObjects, NO_CATALOG, type CatalogView, type NotNullProof, type RawFinding, type StatementContext } from './analyze/statement.js';
import { SourceText } from './analyze/text.js';
import { nonTransactionalReason } from './runner/split.js';
import {
  maxRisk,
  type AnalyzeOptions,
  type Finding,
  type IgnoredFinding,
  type StatementAnalysis,
  type TableStats,
} from './analyze/types.js';
import type { MigrationFile } from './types.js';

export * from './analyze/types.js';
export { RULES, RULE_ALIASES } from './analyze/rules.js';
export { fetchCatalogFacts, type CatalogFacts, type CatalogQuestions } from './analyze/catalog.js';

export const DEFAULT_LARGE_TABLE_ROWS = 100_000;

export interface FileInput {
  /** Path shown in findings and annotations (repository-relative). */
  file: string;
  sql: string;
  /** The tool runs this file outside a transaction. */
  noTransaction?: boolean;
}

export interface FileAnalysis {
  file: string;
  kind: 'sql' | 'opaque';
  statements: StatementAnalysis[];
  /** Ignore directives found in the file, with their reasons (for the plan). */
  directives: Array<{ line: number; scope: 'statement' | 'file'; rules: string[] | 'all'; reason: string; used: string[] }>;
  parseErrors: Array<{ line: number; column: number; message: string }>;
}

interface ParsedStatement {
  type: string;
  node: Node;
  byteStart: number;
  byteEnd: number;
  /** Node `location`s are relative to the text given to the parser: the whole file, or one piece after a syntax error. */
  nodeBase: number;
  error?: { message: string; byte: number };
}

interface ParsedFile {
  input: FileInput;
  src: SourceText;
  statements: ParsedStatement[];
  directives: Directive[];
}

function majorVersion(v: number | undefined): number {
  if (!v) return 15;
  return v >= 10000 ? Math.floor(v / 10000) : v;
}

function sqlErrorDetails(err: unknown): { message: string; cursor?: number } {
  const e = err as { message?: string; sqlDetails?: { message?: string; cursorPosition?: number } };
  const cursor = e.sqlDetails?.cursorPosition;
  return { message: e.sqlDetails?.message ?? e.message ?? String(err), ...(typeof cursor === 'number' ? { cursor } : {}) };
}

/** Trims whitespace off a byte range (statement ranges may include leading blanks depending on the parser build). */
function trimRange(src: SourceText, start: number, end: number): [number, number] {
  const b = src.bytes;
  let s = Math.max(0, start);
  let e = Math.min(end, b.length);
  while (s < e && (b[s] === 0x20 || b[s] === 0x0a || b[s] === 0x0d || b[s] === 0x09)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x0a || b[e - 1] === 0x0d || b[e - 1] === 0x09 || b[e - 1] === 0x3b)) e--;
  return [s, e];
}

function statementsFromResult(result: { stmts?: unknown[] }, src: SourceText, base: number, limit: number): ParsedStatement[] {
  const out: ParsedStatement[] = [];
  for (const raw of result.stmts ?? []) {
    const r = asNode(raw) ?? {};
    // Zero values are omitted (protobuf style): no stmt_location = 0, no stmt_len = to the end of the input.
    const loc = typeof r.stmt_location === 'number' ? r.stmt_location : 0;
    const len = typeof r.stmt_len === 'number' && r.stmt_len > 0 ? r.stmt_len : undefined;
    const [s, e] = trimRange(src, base + loc, len === undefined ? limit : base + loc + len);
    const [type, node] = unwrap(r.stmt) ?? ['Unknown', {}];
    out.push({ type, node, byteStart: s, byteEnd: e, nodeBase: base });
  }
  return out;
}

/**
 * Parses a file with one libpg-query call. On a syntax error the file is split at top-level semicolons with the real
 * scanner and each piece parsed alone, so one bad statement does not hide the findings of the others.
 */
async function parseFile(input: FileInput): Promise<ParsedFile> {
  const src = new SourceText(input.sql);
  const directives = await findDirectives(src);
  if (input.sql.trim() === '') return { input, src, statements: [], directives };
  try {
    const result = (await parse(input.sql)) as { stmts?: unknown[] };
    return { input, src, statements: statementsFromResult(result, src, 0, src.byteLength), directives };
  } catch (err) {
    const whole = sqlErrorDetails(err);
    const pieces = await splitAtSemicolons(src);
    if (!pieces) {
      const errByte = whole.cursor !== undefined ? src.byteOfCharIndex(whole.cursor) : 0;
      const [s, e] = trimRange(src, 0, src.byteLength);
      return { input, src, directives, statements: [{ type: 'ParseError', node: {}, byteStart: s, byteEnd: e, nodeBase: 0, error: { message: whole.message, byte: errByte } }] };
    }
    const statements: ParsedStatement[] = [];
    for (const [start, end] of pieces) {
      const text = src.slice(start, end);
      if (text.trim() === '') continue;
      try {
        const result = (await parse(text)) as { stmts?: unknown[] };
        statements.push(...statementsFromResult(result, src, start, end));
      } catch (pieceErr) {
        const d = sqlErrorDetails(pieceErr);
        const pieceSrc = new SourceText(text);
        const errByte = start + (d.cursor !== undefined ? pieceSrc.byteOfCharIndex(d.cursor) : 0);
        const [s, e] = trimRange(src, start, end);
        statements.push({ type: 'ParseError', node: {}, byteStart: s, byteEnd: e, nodeBase: start, error: { message: d.message, byte: errByte } });
      }
    }
    return { input, src, statements, directives };
  }
}

/** Byte ranges between top-level `;` tokens, or undefined when even the scanner fails (e.g. unterminated quote). */
async function splitAtSemicolons(src: SourceText): Promise<Array<[number, number]> | undefined> {
  let tokens: Array<{ start: number; end: number; text: string; tokenName: string }>;
  try {
    tokens = (await scan(src.text)).tokens;
  } catch {
    return undefined;
  }
  const out: Array<[number, number]> = [];
  let start = 0;
  for (const t of tokens) {
    if (t.text === ';' && t.tokenName.startsWith('ASCII_59')) {
      out.push([start, t.end]);
      start = t.end;
    }
  }
  if (start < src.byteLength) out.push([start, src.byteLength]);
  return out;
}

const TRANSACTION_START = new Set(['TRANS_STMT_BEGIN', 'TRANS_STMT_START']);
const TRANSACTION_END = new Set(['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED', 'TRANS_STMT_PREPARE']);
// Locks that can queue behind a long transaction and hold others up meanwhile (everything above ROW EXCLUSIVE).
const HEAVY_LOCKS = new Set(['ACCESS EXCLUSIVE', 'EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'SHARE', 'SHARE UPDATE EXCLUSIVE']);

/**
 * Analyses the files of one pending migration set, in apply order. Knowledge flows across files: a table created in
 * an earlier file is new (empty) for later ones.
 */
export async function analyzeFiles(inputs: FileInput[], opts: AnalyzeOptions = {}): Promise<FileAnalysis[]> {
  const pgMajor = majorVersion(opts.pgVersion);
  const parsed: ParsedFile[] = [];
  for (const input of inputs) parsed.push(await parseFile(input));
  // One catalog read for the whole set, between parsing and classification, asking only what the statements need.
  const catalog = opts.readCatalog ? await catalogView(await opts.readCatalog(catalogQuestions(parsed)), pgMajor) : NO_CATALOG;

  // Where each object is created, by global statement ordinal (for "re-created later" checks).
  const creations = new Map<string, number[]>();
  let ordinal = 0;
  for (const pf of parsed) {
    for (const st of pf.statements) {
      for (const c of createdObjects(st.type, st.node)) {
        const key = `${c.kind}:${c.name}`;
        const list = creations.get(key) ?? [];
        list.push(ordinal);
        creations.set(key, list);
      }
      ordinal++;
    }
  }

  // Tables created so far in the set. A qualified reference matches the same qualified name or an unqualified create;
  // an unqualified reference matches any create with that bare name (search_path is not known statically).
  const createdQualified = new Set<string>();
  const createdUnqualified = new Set<string>();
  const createdAnyBare = new Set<string>();
  const addCreatedTable = (name: string) => {
    if (name.includes('.')) createdQualified.add(name);
    else createdUnqualified.add(name);
    createdAnyBare.add(bareName(name));
  };
  const isNewTable = (name: string): boolean =>
    name.includes('.') ? createdQualified.has(name) || createdUnqualified.has(bareName(name)) : createdAnyBare.has(name);
  const notValidConstraints: StatementContext['notValidConstraints'] = new Map();
  const validatedNotNull = new Set<string>();
  const disabled = new Set(opts.disableRules ?? []);
  const enabled = new Set(opts.enableRules ?? []);
  const ruleOn = (id: string) => !disabled.has(id) && (!RULES.get(id)?.optIn || enabled.has(id));

  const results: FileAnalysis[] = [];
  ordinal = 0;
  for (const pf of parsed) {
    const { input, src } = pf;
    const file = input.file;
    const mode = input.noTransaction || opts.transactionMode === 'none' ? 'none' : 'file';
    const nonTxInFile = pf.statements.some((s) => s.type !== 'ParseError' && classifyNonTx(s, pgMajor));
    const fileIsOneTransaction = mode === 'file' && !nonTxInFile;
    let txDepth = 0;
    let txCounter = 0;
    let openBegin: StatementAnalysis | undefined;
    let lockTimeoutSet = false;
    let statementTimeoutSet = false;
    let lockTimeoutReported = false;
    let statementTimeoutReported = false;
    const statements: StatementAnalysis[] = [];
    const parseErrors: FileAnalysis['parseErrors'] = [];

    for (const [index, st] of pf.statements.entries()) {
      const myOrdinal = ordinal++;
      const start = src.positionOfByte(st.byteStart);
      const analysis: StatementAnalysis = {
        file,
        index,
        line: start.line,
        column: start.column,
        endLine: src.lineOfByte(Math.max(st.byteStart, st.byteEnd - 1)),
        byteStart: st.byteStart,
        byteEnd: st.byteEnd,
        kind: st.type,
        sql: src.slice(st.byteStart, st.byteEnd),
        tables: [],
        lock: null,
        rewritesTable: false,
        scansTable: false,
        breaking: false,
        destructive: false,
        transactional: true,
        risk: 'safe',
        findings: [],
        ignored: [],
      };
      const raw: RawFinding[] = [];

      if (st.error) {
        const pos = src.positionOfByte(st.error.byte);
        parseErrors.push({ line: pos.line, column: pos.column, message: st.error.message });
        raw.push({ rule: 'unparseable-sql', message: `cannot parse: ${st.error.message}`, loc: st.error.byte });
      } else if (st.type === 'TransactionStmt') {
        const kind = typeof st.node.kind === 'string' ? st.node.kind : '';
        // Postgres has no nested transactions: a BEGIN inside one is ignored (with a warning) and the first COMMIT
        // ends it, so the depth is 0 or 1.
        if (TRANSACTION_START.has(kind)) {
          if (txDepth > 0) {
            raw.push({ rule: 'transaction-nesting', message: 'BEGIN inside a transaction that is already open: Postgres ignores it, and the next COMMIT ends the outer transaction' });
          } else {
            openBegin = analysis;
            txDepth = 1;
            txCounter++;
          }
        } else if (TRANSACTION_END.has(kind)) {
          if (txDepth === 0) raw.push({ rule: 'transaction-nesting', message: 'COMMIT/ROLLBACK with no transaction of this file open: it ends the runner\'s transaction early (or does nothing)' });
          txDepth = 0;
          openBegin = undefined;
        }
      } else {
        if (st.type === 'VariableSetStmt') {
          const name = typeof st.node.name === 'string' ? st.node.name : '';
          if (name === 'lock_timeout') lockTimeoutSet = true;
          if (name === 'statement_timeout') statementTimeoutSet = true;
        }
        const facts = classifyStatement(st.type, st.node, {
          pgMajor,
          isNewTable,
          // The same statement counts too: DROP CONSTRAINT x, ADD CONSTRAINT x in one ALTER TABLE.
          recreatedLater: (kind, name) => (creations.get(`${kind}:${name}`) ?? []).some((o) => o >= myOrdinal),
          notValidConstraints,
          validatedNotNull,
          file,
          inExplicitTransaction: txDepth > 0,
          runsOutsideTransaction: mode === 'none' || nonTxInFile,
          transactionId: txDepth > 0 ? `${file}#tx${txCounter}` : fileIsOneTransaction ? file : `${file}#${index}`,
          // A column created earlier in the set has the type written there, not the live one: only trust live types
          // for tables that existed before.
          columnType: (table, column) => (isNewTable(table) ? undefined : opts.columnTypes?.get(`${table}.${column}`)),
          liveNotNull: (table, column) => (isNewTable(table) ? undefined : opts.notNullProofs?.get(`${table}.${column}`)),
          catalog,
        });
        if (facts.note) analysis.note = facts.note;
        if (facts.decidedBy.length) {
          analysis.decidedBy = facts.decidedBy;
          // The plan copies `note`, so the deciding facts reach reviewers through it too.
          if (!analysis.note) analysis.note = facts.decidedBy.join('; ');
        }
        analysis.tables = facts.tables;
        analysis.lock = facts.lock;
        analysis.rewritesTable = facts.rewritesTable;
        analysis.scansTable = facts.scansTable;
        analysis.breaking = facts.breaking;
        analysis.destructive = facts.destructive;
        analysis.transactional = facts.nonTransactional === undefined;
        for (const f of facts.findings) raw.push(f.loc !== undefined ? { ...f, loc: f.loc + st.nodeBase } : f);
        const target = facts.tables[0];
        if (target && (st.type === 'IndexStmt' || st.type === 'AlterTableStmt' || st.type === 'RenameStmt') && isNewTable(target)) {
          analysis.note = `${target} is created earlier in this migration set: it is empty and unknown to the running app, so locks, scans and drops on it are harmless`;
        }
        if (facts.nonTransactional && txDepth === 0) {
          raw.push({ rule: 'non-transactional-statement', message: `${facts.nonTransactional} cannot run in a transaction block; the runner executes it on its own` });
        }
        const touchesExisting = facts.tables.some((t) => !isNewTable(t));
        if (opts.runnerSetsTimeouts === false && touchesExisting) {
          if (!lockTimeoutSet && !lockTimeoutReported && facts.lock && HEAVY_LOCKS.has(facts.lock)) {
            lockTimeoutReported = true;
            raw.push({ rule: 'require-lock-timeout', message: `${facts.lock} lock taken without SET lock_timeout earlier in the file` });
          }
          if (!statementTimeoutSet && !statementTimeoutReported && (facts.scansTable || facts.rewritesTable)) {
            statementTimeoutReported = true;
            raw.push({ rule: 'require-statement-timeout', message: 'a scan/rewrite without SET statement_timeout earlier in the file' });
          }
        }
        if (IDENTIFIER_CHECKED.has(st.type)) raw.push(...longIdentifiers(src, st.byteStart, st.byteEnd));
        if (enabled.has('require-table-schema')) {
          for (const t of facts.tables) if (!t.includes('.')) raw.push({ rule: 'require-table-schema', table: t, message: `${t} is not schema-qualified` });
        }
        if (st.type === 'CreateStmt' || st.type === 'CreateTableAsStmt') {
          const rel = asNode(st.node.relation) ?? asNode(asNode(st.node.into)?.rel);
          if (typeof rel?.relname === 'string') addCreatedTable(typeof rel.schemaname === 'string' ? `${rel.schemaname}.${rel.relname}` : rel.relname);
        }
      }

      analysis.findings = raw.filter((r) => ruleOn(r.rule)).map((r) => toFinding(r, analysis, src));
      statements.push(analysis);
    }

    if (txDepth > 0 && openBegin) {
      openBegin.findings.push(toFinding({ rule: 'ban-uncommitted-transaction', message: 'BEGIN without a matching COMMIT: the runner will roll it back, applying nothing' }, openBegin, src));
    }
    applyDirectives(pf, statements);
    results.push({
      file,
      kind: 'sql',
      statements,
      parseErrors,
      directives: pf.directives.map((d) => ({ line: d.line, scope: d.scope, rules: d.rules, reason: d.reason, used: [...d.used] })),
    });
  }

  if (opts.tableStats) applyTableStats(results.flatMap((r) => r.statements), opts.tableStats, opts.largeTableRows ?? DEFAULT_LARGE_TABLE_ROWS);
  else for (const r of results) for (const s of r.statements) recomputeRisk(s);
  return results;
}

/**
 * What the live catalog must answer for these statements: functions called by ADD COLUMN defaults, non-built-in column
 * types, columns whose type or NOT NULL changes, CHECK constraints of tables that get SET NOT NULL / PRIMARY KEY USING
 * INDEX / ATTACH PARTITION, the index of USING INDEX, and partitioned parents.
 */
function catalogQuestions(files: ParsedFile[]): CatalogQuestions {
  const q = emptyQuestions();
  for (const pf of files) {
    for (const st of pf.statements) {
      if (st.type !== 'AlterTableStmt') continue;
      const table = rangeVarName(st.node.relation);
      if (!table) continue;
      for (const c of asList(st.node.cmds)) {
        const cmd = child(c, 'AlterTableCmd');
        const subtype = str(cmd?.subtype) ?? '';
        const col = str(cmd?.name);
        const def = child(cmd?.def, 'ColumnDef');
        if (subtype === 'AT_AddColumn' && def) {
          for (const fc of collectNodes(def.constraints, 'FuncCall')) q.functions.push(names(fc.funcname).join('.'));
          const typeName = names(asNode(def.typeName)?.names);
          if (typeName.length && typeName[0] !== 'pg_catalog' && !BUILTIN_TYPES.has(typeName[typeName.length - 1] ?? '')) q.types.push(typeName.join('.'));
        } else if ((subtype === 'AT_AlterColumnType' || subtype === 'AT_SetNotNull') && col) {
          q.columns.push({ table, column: col });
          if (subtype === 'AT_SetNotNull') q.tables.push(table);
        } else if (subtype === 'AT_AddConstraint') {
          const con = child(cmd?.def, 'Constraint');
          const index = str(con?.indexname);
          if (con && str(con.contype) === 'CONSTR_PRIMARY' && index) {
            q.indexes.push({ table, index });
            q.tables.push(table);
          }
          // PG 18's ADD CONSTRAINT … NOT NULL col is SET NOT NULL by another name.
          const nnColumn = con && str(con.contype) === 'CONSTR_NOTNULL' ? names(con.keys)[0] : undefined;
          if (nnColumn) {
            q.columns.push({ table, column: nnColumn });
            q.tables.push(table);
          }
        } else if (subtype === 'AT_AttachPartition') {
          const part = rangeVarName(child(cmd?.def, 'PartitionCmd')?.name);
          q.partitionParents.push(table);
          if (part) q.tables.push(part);
        }
      }
    }
  }
  return q;
}

// Types a domain can never be (pg_catalog base types): not worth a catalog question.
const BUILTIN_TYPES = new Set(['int2', 'int4', 'int8', 'smallint', 'integer', 'int', 'bigint', 'serial', 'serial4', 'bigserial',
  'serial8', 'smallserial', 'serial2', 'numeric', 'decimal', 'float4', 'float8', 'real', 'text', 'varchar', 'bpchar', 'char',
  'bool', 'boolean', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'uuid', 'json', 'jsonb', 'bytea',
  'inet', 'cidr', 'macaddr', 'money', 'bit', 'varbit', 'xml', 'tsvector', 'tsquery', 'oid', 'name']);

/** Precomputes the catalog lookups (CHECK expressions are read with the real parser) into the sync view the rules use. */
async function catalogView(facts: CatalogFacts, pgMajor: number): Promise<CatalogView> {
  const conjuncts = new Map<LiveCheck, Node[]>();
  for (const list of facts.checks.values()) for (const c of list) conjuncts.set(c, await checkConjuncts(c.expression));
  const lookup = <T>(m: Map<string, T>, table: string, suffix = ''): T | undefined =>
    m.get(`${table}${suffix}`) ?? m.get(`${bareName(table)}${suffix}`) ?? m.get(`public.${table}${suffix}`);
  const checkProof = (table: string, column: string): string | undefined => {
    if (pgMajor < 12) return undefined;
    return lookup(facts.checks, table)?.find((c) => (conjuncts.get(c) ?? []).some((x) => provesNotNull(x, column)))?.name;
  };
  const notNullProof = (table: string, column: string): NotNullProof | undefined => {
    const live = lookup(facts.columns, table, `.${column}`);
    if (live?.notNull) return { by: 'not-null' };
    const checks = lookup(facts.checks, table);
    if (!checks) return undefined;
    const name = checkProof(table, column);
    return name ? { by: 'check', constraint: name } : { by: 'none' };
  };
  return {
    volatility: (fn) => facts.functions.get(fn),
    domainConstraints: (type) => facts.domains.get(type),
    column: (table, column) => lookup(facts.columns, table, `.${column}`),
    notNullProof,
    indexColumns: (table, index) => {
      const idx = lookup(facts.indexes, table, `|${index}`);
      if (!idx) return undefined;
      return idx.columns.map((c) => ({ name: c.name, proof: c.notNull ? { by: 'not-null' } : checkProof(table, c.name) ? { by: 'check', constraint: checkProof(table, c.name) ?? '' } : { by: 'none' } }));
    },
    partitioned: (table) => lookup(facts.partitioned, table),
    // The partition constraint of a RANGE bound is key IS NOT NULL AND key >= lower AND key < upper; a CHECK with
    // those three conjuncts implies it (the server's proof, PartConstraintImpliedByRelConstraint, is more general).
    rangeBoundProof: (table, key, lower, upper) =>
      lookup(facts.checks, table)?.find((c) => {
        const xs = conjuncts.get(c) ?? [];
        return xs.some((x) => provesNotNull(x, key)) && xs.some((x) => comparisonWith(x, key, '>=') === lower) && xs.some((x) => comparisonWith(x, key, '<') === upper);
      })?.name,
  };
}

// DDL whose identifiers name new objects; the parser has already truncated long names (with only a NOTICE), so the
// check reads the source text.
const IDENTIFIER_CHECKED = new Set(['CreateStmt', 'AlterTableStmt', 'IndexStmt', 'CreateSeqStmt', 'RenameStmt', 'ViewStmt',
  'CreateEnumStmt', 'CreateDomainStmt', 'CompositeTypeStmt', 'CreateTableAsStmt', 'CreateTrigStmt', 'CreateSchemaStmt']);
// Literals, comments and quoted names are matched whole so a quote inside them cannot start a false token; bare words
// only from 16 characters on: a shorter one cannot exceed 63 bytes (4 bytes per character at most), and ordinary words
// then cost no match objects.
const IDENTIFIER_TOKENS = /'(?:[^']|'')*'|"((?:[^"]|"")+)"|--[^\n]*|\/\*[\s\S]*?\*\/|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]{15,})/g;

function longIdentifiers(src: SourceText, start: number, end: number): RawFinding[] {
  const text = src.slice(start, end);
  const out: RawFinding[] = [];
  for (const m of text.matchAll(IDENTIFIER_TOKENS)) {
    const ident = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2];
    if (!ident || ident.length < 16) continue;
    const bytes = Buffer.byteLength(ident, 'utf8');
    if (bytes <= 63) continue;
    out.push({
      rule: 'identifier-too-long',
      message: `identifier ${ident.slice(0, 24)}… is ${bytes} bytes; Postgres silently truncates it to 63`,
      loc: start + Buffer.byteLength(text.slice(0, m.index), 'utf8'),
    });
  }
  return out;
}

/** Cannot run in a transaction block (the runner's list, plus ALTER TYPE … ADD VALUE before PostgreSQL 12). */
function classifyNonTx(st: ParsedStatement, pgMajor: number): boolean {
  if (st.type === 'AlterEnumStmt' && pgMajor < 12 && st.node.oldVal === undefined) return true;
  return nonTransactionalReason(st.type, st.node) !== undefined;
}

function toFinding(r: RawFinding, st: StatementAnalysis, src: SourceText): Finding {
  const info = rule(r.rule);
  const pos = r.loc !== undefined ? src.positionOfByte(r.loc) : { line: st.line, column: st.column };
  const f: Finding = {
    rule: info.id,
    risk: info.risk,
    level: info.level,
    message: r.message ?? info.reason,
    safeAlternative: info.safeAlternative,
    file: st.file,
    line: pos.line,
    column: pos.column,
  };
  if (r.table) f.table = r.table;
  if (r.columnName) f.columnName = r.columnName;
  if (info.blocksPlan) f.blocksPlan = true;
  return f;
}

/** Moves findings covered by ignore directives to `ignored` (keeping the reason) and reports directives that did nothing. */
function applyDirectives(pf: ParsedFile, statements: StatementAnalysis[]): void {
  if (pf.directives.length === 0) return;
  const { src } = pf;
  const targets = new Map<Directive, StatementAnalysis | undefined>();
  for (const d of pf.directives) {
    if (d.scope === 'file') continue;
    // A directive trailing a statement on the same line applies to that statement (users write it that way,
    // squawk #833); otherwise it applies to the next statement.
    const trailing = statements.find((s) => s.byteEnd <= d.start && src.lineOfByte(Math.max(s.byteStart, s.byteEnd - 1)) === d.line);
    const next = statements.find((s) => s.byteStart >= d.end);
    targets.set(d, trailing ?? next);
  }
  for (const st of statements) {
    const applicable = pf.directives.filter((d) => d.scope === 'file' || targets.get(d) === st);
    if (applicable.length === 0) continue;
    const kept: Finding[] = [];
    for (const f of st.findings) {
      const d = applicable.find((x) => directiveCovers(x, f.rule));
      if (d) {
        d.used.add(f.rule);
        const ig: IgnoredFinding = { rule: f.rule, file: f.file, line: f.line, directiveLine: d.line, reason: d.reason || '(no reason given)' };
        st.ignored.push(ig);
      } else kept.push(f);
    }
    st.findings = kept;
  }
  for (const d of pf.directives) {
    const target = d.scope === 'file' ? statements[0] : targets.get(d);
    const problems: string[] = [];
    if (d.unknown.length) problems.push(`unknown rule id${d.unknown.length > 1 ? 's' : ''} ${d.unknown.join(', ')}`);
    if (d.used.size === 0) problems.push(target ? 'it suppresses nothing' : 'no statement follows it');
    if (problems.length === 0) continue;
    const host = target ?? statements[statements.length - 1];
    if (!host) continue;
    host.findings.push({
      ...toFinding({ rule: 'unused-ignore', message: `ignore directive on line ${d.line}: ${problems.join('; ')}` }, host, src),
      line: d.line,
      column: 1,
    });
  }
}

function formatRows(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

function lookupStats(stats: Map<string, TableStats>, table: string): TableStats | undefined {
  return stats.get(table) ?? stats.get(bareName(table)) ?? stats.get(`public.${table}`);
}

/**
 * Weighs lock/rewrite findings by live table size: below `largeTableRows` the lock is brief, so the finding becomes a
 * notice (class safe) with the reason stated; at or above it the finding is raised to an error. Idempotent.
 */
export function applyTableStats(statements: StatementAnalysis[], stats: Map<string, TableStats>, largeTableRows: number): void {
  for (const st of statements) {
    for (const f of st.findings) {
      const info = rule(f.rule);
      f.risk = info.risk;
      f.level = info.level;
      delete f.sizeNote;
      delete f.originalRisk;
      const weighable = (info.risk === 'blocking' && !info.blocksPlan) || f.rule === 'vector-index-build';
      if (!weighable || !f.table) continue;
      const s = lookupStats(stats, f.table);
      if (!s) continue;
      const size = `${f.table} has ~${formatRows(s.rows)} rows (${formatBytes(s.bytes)})`;
      if (s.rows < largeTableRows) {
        if (info.risk === 'blocking') {
          f.originalRisk = info.risk;
          f.risk = 'safe';
          f.level = 'notice';
          f.sizeNote = `${size}, below large-table-rows=${largeTableRows}: the lock is brief, so this is not treated as blocking`;
        } else {
          f.sizeNote = `${size}, below large-table-rows=${largeTableRows}`;
        }
      } else {
        f.originalRisk = info.risk;
        f.risk = 'blocking';
        f.level = info.risk === 'blocking' ? 'error' : 'warning';
        f.sizeNote = `${size}, at or above large-table-rows=${largeTableRows}: expect a long ${info.risk === 'blocking' ? 'lock' : 'build'}`;
      }
    }
    recomputeRisk(st);
  }
}

function recomputeRisk(st: StatementAnalysis): void {
  st.risk = st.findings.reduce((acc, f) => maxRisk(acc, f.risk), 'safe' as StatementAnalysis['risk']);
}

/** Tables whose size would change a finding's class (for one pg_class lookup). */
export function tablesToWeigh(files: FileAnalysis[]): string[] {
  const out = new Set<string>();
  for (const file of files) {
    for (const st of file.statements) {
      for (const f of st.findings) {
        const info = RULES.get(f.rule);
        if (f.table && info && ((info.risk === 'blocking' && !info.blocksPlan) || f.rule === 'vector-index-build')) out.add(f.table);
      }
    }
  }
  return [...out];
}

/**
 * table.column pairs whose live definition could clear a finding: the type for changing-column-type (binary-coercible
 * changes), NOT NULL / a validated CHECK (col IS NOT NULL) for adding-not-nullable-field.
 */
export function columnsToInspect(files: FileAnalysis[]): Array<{ table: string; column: string }> {
  const out = new Map<string, { table: string; column: string }>();
  for (const file of files) {
    for (const st of file.statements) {
      for (const f of st.findings) {
        const inspectable = f.rule === 'changing-column-type' || f.rule === 'adding-not-nullable-field';
        if (inspectable && f.table && f.columnName) out.set(`${f.table}.${f.columnName}`, { table: f.table, column: f.columnName });
      }
    }
  }
  return [...out.values()];
}

/** Contract entry point: one file on its own. */
export async function analyzeSql(sql: string, file: string, opts: AnalyzeOptions = {}): Promise<StatementAnalysis[]> {
  const [result] = await analyzeFiles([{ file, sql }], opts);
  return result?.statements ?? [];
}

/** Analyses the pending files of a PendingReport; JS/TS files become one opaque pseudo-statement each. */
export async function analyzeMigrationFiles(files: MigrationFile[], opts: AnalyzeOptions = {}): Promise<FileAnalysis[]> {
  const sqlFiles = files.filter((f) => f.kind === 'sql' && f.sql !== undefined);
  const inputs: FileInput[] = [];
  for (const f of sqlFiles) {
    inputs.push({ file: f.relPath, sql: await alignedWithFile(f), ...(f.noTransaction ? { noTransaction: true } : {}) });
  }
  const analysed = await analyzeFiles(inputs, opts);
  const byFile = new Map(analysed.map((a) => [a.file, a]));
  return files.map((f) => byFile.get(f.relPath) ?? opaqueFile(f));
}

/**
 * The SQL to analyse, positioned as in the file on disk. Some tools run only a section of the file (dbmate's
 * `-- migrate:up`, node-pg-migrate's `-- Up Migration`); the text before it is kept as blank lines (comment lines
 * verbatim, so file-level ignore directives there still count), so lines and columns match the file for annotations.
 */
async function alignedWithFile(f: MigrationFile): Promise<string> {
  const sql = f.sql ?? '';
  let text: string;
  try {
    text = await readFile(f.path, 'utf8');
  } catch {
    return sql;
  }
  if (text === sql) return sql;
  const at = text.indexOf(sql);
  if (at <= 0) return sql;
  const prefix = text
    .slice(0, at)
    .split('\n')
    .map((line) => (/^\s*--/.test(line) ? line : [...line].map(() => ' ').join('')))
    .join('\n');
  return prefix + sql;
}

function opaqueFile(f: MigrationFile): FileAnalysis {
  const info = rule('opaque-migration');
  return {
    file: f.relPath,
    kind: 'opaque',
    parseErrors: [],
    directives: [],
    statements: [
      {
        file: f.relPath, index: 0, line: 1, column: 1, endLine: 1, byteStart: 0, byteEnd: 0, kind: 'OpaqueMigration',
        sql: '', tables: [], lock: null, rewritesTable: false, scansTable: false, breaking: false, destructive: false,
        transactional: !f.noTransaction, risk: info.risk, ignored: [],
        findings: [{ rule: info.id, risk: info.risk, level: info.level, message: `${f.relPath} is a code migration: ${info.reason}`, safeAlternative: info.safeAlternative, file: f.relPath, line: 1, column: 1 }],
      },
    ],
  };
}
