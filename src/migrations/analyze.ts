// Risk analysis of pending migrations with the real Postgres parser (libpg-query). Each file is parsed once; statements
// are classified (lock, rewrite/scan, transaction needs, rules) with knowledge of the whole pending set (tables created
// earlier are empty; NOT VALID + VALIDATE pairs; objects dropped and re-created), then inline ignores and live table
// sizes adjust the classes. Never throws on bad SQL: unparseable text becomes an opaque statement with file and line.
import './analyze/wasm-dirname.js';
import { readFile } from 'node:fs/promises';
import { formatBytes } from '../core/bytes.js';
import { asNode } from './analyze/ast.js';
import { directiveCovers, type Directive } from './analyze/directives.js';
import { FileState } from './analyze/file-state.js';
import { rule, RULES } from './analyze/rules.js';
import {
  bareName,
  classifyStatement,
  createdObjects,
  NO_CATALOG,
  type RawFinding,
  type StatementContext,
} from './analyze/statement.js';
import { catalogQuestions, catalogView } from './analyze/catalog-view.js';
import { parseAll } from './analyze/parallel.js';
import { parseFile, type FileInput, type ParsedFile, type ParsedStatement } from './analyze/parse.js';
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

export type { FileInput } from './analyze/parse.js';

export const DEFAULT_LARGE_TABLE_ROWS = 100_000;

export interface FileAnalysis {
  file: string;
  kind: 'sql' | 'opaque';
  statements: StatementAnalysis[];
  /** Ignore directives found in the file, with their reasons (for the plan). */
  directives: Array<{
    line: number;
    scope: 'statement' | 'file';
    rules: string[] | 'all';
    reason: string;
    used: string[];
  }>;
  parseErrors: Array<{ line: number; column: number; message: string }>;
}

function majorVersion(v: number | undefined): number {
  if (!v) return 15;
  return v >= 10000 ? Math.floor(v / 10000) : v;
}

/**
 * Analyses the files of one pending migration set, in apply order. Knowledge flows across files: a table created in
 * an earlier file is new (empty) for later ones.
 */
export async function analyzeFiles(inputs: FileInput[], opts: AnalyzeOptions = {}): Promise<FileAnalysis[]> {
  const pgMajor = majorVersion(opts.pgVersion);
  const parsed: ParsedFile[] = [];
  // Trees of the files that parse (on several threads for a large set); syntax errors are handled by parseFile.
  const trees = await parseAll(
    inputs.map((i) => i.sql),
    opts.parseThreads,
  );
  for (const [i, input] of inputs.entries()) parsed.push(await parseFile(input, trees[i]));
  // One catalog read for the whole set, between parsing and classification, asking only what the statements need.
  const catalog = opts.readCatalog
    ? await catalogView(await opts.readCatalog(catalogQuestions(parsed)), pgMajor)
    : NO_CATALOG;

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
    name.includes('.')
      ? createdQualified.has(name) || createdUnqualified.has(bareName(name))
      : createdAnyBare.has(name);
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
    const state = new FileState(
      file,
      mode,
      pf.statements.some((s) => s.type !== 'ParseError' && classifyNonTx(s, pgMajor)),
    );
    const statements: StatementAnalysis[] = [];
    const parseErrors: FileAnalysis['parseErrors'] = [];

    for (const [index, st] of pf.statements.entries()) {
      const myOrdinal = ordinal++;
      const start = src.positionOfByte(st.byteStart);
      const analysis = unclassified(
        file,
        index,
        start,
        src.lineOfByte(Math.max(st.byteStart, st.byteEnd - 1)),
        st.byteStart,
        st.byteEnd,
        st.type,
        src.slice(st.byteStart, st.byteEnd),
      );
      const raw: RawFinding[] = [];

      if (st.error) {
        const pos = src.positionOfByte(st.error.byte);
        parseErrors.push({ line: pos.line, column: pos.column, message: st.error.message });
        raw.push({ rule: 'unparseable-sql', message: `cannot parse: ${st.error.message}`, loc: st.error.byte });
      } else if (st.type === 'TransactionStmt') {
        const nesting = state.transactionStatement(typeof st.node.kind === 'string' ? st.node.kind : '', analysis);
        if (nesting) raw.push(nesting);
      } else {
        if (st.type === 'VariableSetStmt') state.setting(typeof st.node.name === 'string' ? st.node.name : '');
        const facts = classifyStatement(st.type, st.node, {
          pgMajor,
          isNewTable,
          // The same statement counts too: DROP CONSTRAINT x, ADD CONSTRAINT x in one ALTER TABLE.
          recreatedLater: (kind, name) => (creations.get(`${kind}:${name}`) ?? []).some((o) => o >= myOrdinal),
          notValidConstraints,
          validatedNotNull,
          file,
          inExplicitTransaction: state.inExplicitTransaction,
          runsOutsideTransaction: state.runsOutsideTransaction,
          transactionId: state.transactionId(index),
          // A column created earlier in the set has the type written there, not the live one: only trust live types
          // for tables that existed before.
          columnType: (table, column) => (isNewTable(table) ? undefined : opts.columnTypes?.get(`${table}.${column}`)),
          liveNotNull: (table, column) =>
            isNewTable(table) ? undefined : opts.notNullProofs?.get(`${table}.${column}`),
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
        if (
          target &&
          (st.type === 'IndexStmt' || st.type === 'AlterTableStmt' || st.type === 'RenameStmt') &&
          isNewTable(target)
        ) {
          analysis.note = `${target} is created earlier in this migration set: it is empty and unknown to the running app, so locks, scans and drops on it are harmless`;
        }
        if (facts.nonTransactional && !state.inExplicitTransaction) {
          raw.push({
            rule: 'non-transactional-statement',
            message: `${facts.nonTransactional} cannot run in a transaction block; the runner executes it on its own`,
          });
        }
        const touchesExisting = facts.tables.some((t) => !isNewTable(t));
        if (opts.runnerSetsTimeouts === false && touchesExisting)
          raw.push(...state.timeoutFindings(facts.lock, facts.scansTable || facts.rewritesTable));
        if (IDENTIFIER_CHECKED.has(st.type)) raw.push(...longIdentifiers(analysis.sql, st.byteStart));
        if (enabled.has('require-table-schema')) {
          for (const t of facts.tables)
            if (!t.includes('.'))
              raw.push({ rule: 'require-table-schema', table: t, message: `${t} is not schema-qualified` });
        }
        if (st.type === 'CreateStmt' || st.type === 'CreateTableAsStmt') {
          const rel = asNode(st.node.relation) ?? asNode(asNode(st.node.into)?.rel);
          if (typeof rel?.relname === 'string')
            addCreatedTable(typeof rel.schemaname === 'string' ? `${rel.schemaname}.${rel.relname}` : rel.relname);
        }
      }

      analysis.findings = raw.filter((r) => ruleOn(r.rule)).map((r) => toFinding(r, analysis, src));
      statements.push(analysis);
    }

    const openBegin = state.uncommittedBegin;
    if (openBegin) {
      openBegin.findings.push(
        toFinding(
          {
            rule: 'ban-uncommitted-transaction',
            message: 'BEGIN without a matching COMMIT: the runner will roll it back, applying nothing',
          },
          openBegin,
          src,
        ),
      );
    }
    applyDirectives(pf, statements);
    results.push({
      file,
      kind: 'sql',
      statements,
      parseErrors,
      directives: pf.directives.map((d) => ({
        line: d.line,
        scope: d.scope,
        rules: d.rules,
        reason: d.reason,
        used: [...d.used],
      })),
    });
  }

  if (opts.tableStats)
    applyTableStats(
      results.flatMap((r) => r.statements),
      opts.tableStats,
      opts.largeTableRows ?? DEFAULT_LARGE_TABLE_ROWS,
    );
  else for (const r of results) for (const s of r.statements) recomputeRisk(s);
  return results;
}

// DDL whose identifiers name new objects; the parser has already truncated long names (with only a NOTICE), so the
// check reads the source text.
const IDENTIFIER_CHECKED = new Set([
  'CreateStmt',
  'AlterTableStmt',
  'IndexStmt',
  'CreateSeqStmt',
  'RenameStmt',
  'ViewStmt',
  'CreateEnumStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'CreateTableAsStmt',
  'CreateTrigStmt',
  'CreateSchemaStmt',
]);
// Literals, comments and quoted names are matched whole so a quote inside them cannot start a false token; bare words
// only from 16 characters on: a shorter one cannot exceed 63 bytes (4 bytes per character at most), and ordinary words
// then cost no match objects.
const IDENTIFIER_TOKENS =
  /'(?:[^']|'')*'|"((?:[^"]|"")+)"|--[^\n]*|\/\*[\s\S]*?\*\/|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]{15,})/g;

// A name over 63 bytes needs 64 ASCII word characters, a non-ASCII character, or a quoted name of 16+ characters
// (possibly with "" escapes): text with none of these cannot hold one, and skips the full tokenizing match. A loop
// rather than a regular expression: it runs on most DDL statements, and this made the check ~3× cheaper (an
// alternation without a literal prefix makes the regex engine try every branch at every position).
function mayHoldLongIdentifier(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return true;
    if (c === 0x22) {
      // As /"[^"]{16}|""/ would: any quote counts as an opening one.
      const close = text.indexOf('"', i + 1);
      if ((close === -1 ? text.length : close) - i - 1 >= 16 || close === i + 1) return true;
      run = 0;
    } else if (
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x5f ||
      c === 0x24
    ) {
      if (++run >= 64) return true;
    } else run = 0;
  }
  return false;
}

/** `text` is the statement's source, starting at byte `start` of the file. */
function longIdentifiers(text: string, start: number): RawFinding[] {
  const out: RawFinding[] = [];
  if (!mayHoldLongIdentifier(text)) return out;
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
    const trailing = statements.find(
      (s) => s.byteEnd <= d.start && src.lineOfByte(Math.max(s.byteStart, s.byteEnd - 1)) === d.line,
    );
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
        const ig: IgnoredFinding = {
          rule: f.rule,
          file: f.file,
          line: f.line,
          directiveLine: d.line,
          reason: d.reason || '(no reason given)',
        };
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
      ...toFinding(
        { rule: 'unused-ignore', message: `ignore directive on line ${d.line}: ${problems.join('; ')}` },
        host,
        src,
      ),
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

function lookupStats(stats: Map<string, TableStats>, table: string): TableStats | undefined {
  return stats.get(table) ?? stats.get(bareName(table)) ?? stats.get(`public.${table}`);
}

/**
 * Weighs lock/rewrite findings by live table size: below `largeTableRows` the lock is brief, so the finding becomes a
 * notice (class safe) with the reason stated; at or above it the finding is raised to an error. Idempotent.
 */
export function applyTableStats(
  statements: StatementAnalysis[],
  stats: Map<string, TableStats>,
  largeTableRows: number,
): void {
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
        if (f.table && info && ((info.risk === 'blocking' && !info.blocksPlan) || f.rule === 'vector-index-build'))
          out.add(f.table);
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
        if (inspectable && f.table && f.columnName)
          out.set(`${f.table}.${f.columnName}`, { table: f.table, column: f.columnName });
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
export async function analyzeMigrationFiles(
  files: MigrationFile[],
  opts: AnalyzeOptions = {},
): Promise<FileAnalysis[]> {
  const sqlFiles = files.filter((f) => f.kind === 'sql' && f.sql !== undefined);
  const inputs: FileInput[] = [];
  for (const f of sqlFiles) {
    inputs.push({
      file: f.relPath,
      sql: await alignedWithFile(f),
      ...(f.noTransaction ? { noTransaction: true } : {}),
    });
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
        ...unclassified(f.relPath, 0, { line: 1, column: 1 }, 1, 0, 0, 'OpaqueMigration', ''),
        transactional: !f.noTransaction,
        risk: info.risk,
        findings: [
          {
            rule: info.id,
            risk: info.risk,
            level: info.level,
            message: `${f.relPath} is a code migration: ${info.reason}`,
            safeAlternative: info.safeAlternative,
            file: f.relPath,
            line: 1,
            column: 1,
          },
        ],
      },
    ],
  };
}

/** A statement as found, before classification: no tables, no lock, nothing risky, transactional. */
function unclassified(
  file: string,
  index: number,
  start: { line: number; column: number },
  endLine: number,
  byteStart: number,
  byteEnd: number,
  kind: string,
  sql: string,
): StatementAnalysis {
  return {
    file,
    index,
    line: start.line,
    column: start.column,
    endLine,
    byteStart,
    byteEnd,
    kind,
    sql,
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
}
