// CREATE INDEX and REINDEX: SHARE (writes blocked) for the build unless CONCURRENTLY (sql-createindex.html, sql-reindex.html).
import { asList, hasDefElem, rangeVarName, str } from '../ast.js';
import { ROBUST_HINT, type HandlerTable } from './context.js';

export const indexHandlers: HandlerTable = {
  IndexStmt: (node, f, ctx) => {
    const table = rangeVarName(node.relation);
    const isNew = table !== undefined && ctx.isNewTable(table);
    const concurrent = node.concurrent === true;
    f.touch(table, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE');
    f.scansTable = !isNew;
    const method = str(node.accessMethod) ?? 'btree';
    const idx = str(node.idxname);
    if (concurrent && ctx.inExplicitTransaction) {
      f.hit('ban-concurrent-index-creation-in-transaction', {
        table,
        message: `CREATE INDEX CONCURRENTLY ${idx ?? ''} is inside BEGIN … COMMIT: Postgres rejects it (25001)`,
      });
    }
    if (!concurrent && !isNew) {
      f.hit('require-concurrent-index-creation', {
        table,
        message: `CREATE ${node.unique ? 'UNIQUE ' : ''}INDEX ${idx ?? ''} on ${table ?? '?'} without CONCURRENTLY blocks writes (SHARE lock) for the whole build`,
      });
    }
    if ((method === 'hnsw' || method === 'ivfflat') && !isNew) {
      f.hit('vector-index-build', {
        table,
        message: `${method.toUpperCase()} index build on ${table ?? '?'}: CPU- and memory-heavy, slow on large tables`,
      });
    }
    if (!node.unique && asList(node.indexParams).length > 3) {
      f.hit('index-too-many-columns', {
        table,
        message: `non-unique index on ${asList(node.indexParams).length} columns`,
      });
    }
    if (concurrent && node.if_not_exists !== true) {
      // Never atomic, even when written inside BEGIN: a failed build leaves an INVALID index behind.
      f.hit('prefer-robust-stmts', {
        message: `CREATE INDEX CONCURRENTLY ${idx ?? ''} without IF NOT EXISTS: a retry after a failed build errors (${ROBUST_HINT})`,
      });
    } else if (!concurrent) f.robust(node.if_not_exists === true, `CREATE INDEX ${idx ?? ''}`);
  },
  ReindexStmt: (node, f) => {
    const t = rangeVarName(node.relation);
    const concurrent = hasDefElem(node.params, 'concurrently');
    // The table gets SHARE (writes blocked); the index itself gets ACCESS EXCLUSIVE (reads using it block).
    f.touch(t, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE');
    f.scansTable = true;
    if (!concurrent)
      f.hit('require-concurrent-reindex', {
        table: t,
        message: `REINDEX ${t ?? str(node.name) ?? ''} without CONCURRENTLY blocks writes and reads that use the index`,
      });
  },
};
