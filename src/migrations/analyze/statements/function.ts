// Functions: the volatility of DEFAULT expressions (rewrite or not), and statements whose effect is code (DO, CALL,
// SELECT of functions) and cannot be inspected.
import { collectNodes, containsNode, names } from '../ast.js';
import type { Volatility } from '../catalog.js';
import { NO_CATALOG, type CatalogView, type HandlerTable } from './context.js';

// Built-in functions whose result does not change per row (pg_proc.provolatile 'i' or 's'): a DEFAULT using only these
// is evaluated once and stored as the column's "missing value" on PG 11+, so no rewrite (sql-altertable.html, Notes:
// "adding a column with a volatile DEFAULT … will require the entire table and its indexes to be rewritten"). The live
// catalog overrides both lists; without it, an unknown function is assumed volatile, as squawk does.
const NON_VOLATILE_FUNCTIONS = new Set([
  'now',
  'statement_timestamp',
  'transaction_timestamp',
  'current_timestamp',
  'current_date',
  'localtimestamp',
  'lower',
  'upper',
  'concat',
  'coalesce',
  'to_jsonb',
  'to_json',
  'jsonb_build_object',
  'json_build_object',
  'jsonb_build_array',
  'json_build_array',
  'array',
  'make_date',
  'make_timestamp',
  'make_timestamptz',
  'make_interval',
  'to_timestamp',
  'to_date',
  'length',
  'abs',
  'round',
  'trim',
  'replace',
  'md5',
  'current_user',
  'current_schema',
  'current_setting',
  'timezone',
  'date_trunc',
  'nullif',
  'greatest',
  'least',
  'int4',
  'int8',
  'text',
  'uuid',
]);
const VOLATILE_HINT = new Set([
  'random',
  'gen_random_uuid',
  'uuid_generate_v4',
  'uuid_generate_v1',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'txid_current',
  'uuidv7',
  'uuidv4',
]);

const VOLATILITY_NAMES: Record<Volatility, string> = { i: 'immutable', s: 'stable', v: 'volatile' };

/**
 * Whether a DEFAULT expression may differ per row (forces a table rewrite), and the fact that decided it: the live
 * pg_proc.provolatile when known, else the built-in lists.
 */
export function defaultVolatility(
  expr: unknown,
  catalog: CatalogView = NO_CATALOG,
): { volatile: boolean; facts: string[] } {
  const facts: string[] = [];
  let volatile = false;
  for (const fc of collectNodes(expr, 'FuncCall')) {
    // The parser has folded unquoted names to lower case; a quoted "Name" is a different function.
    const parts = names(fc.funcname);
    const fname = parts[parts.length - 1] ?? '';
    const written = parts.join('.');
    const live = catalog.volatility(written) ?? (parts.length > 1 ? undefined : catalog.volatility(fname));
    if (live) {
      facts.push(`${written}() is ${VOLATILITY_NAMES[live]} (pg_proc.provolatile = '${live}')`);
      if (live === 'v') volatile = true;
    } else if (VOLATILE_HINT.has(fname) || !NON_VOLATILE_FUNCTIONS.has(fname)) {
      facts.push(
        VOLATILE_HINT.has(fname)
          ? `${written}() is volatile`
          : `${written}() is not a known non-volatile built-in and the live catalog was not read: assumed volatile`,
      );
      volatile = true;
    } else {
      facts.push(`${written}() is a non-volatile built-in`);
    }
  }
  // Sub-selects in defaults are not allowed by Postgres; anything else (constants, casts, arrays, operators,
  // SQLValueFunction like CURRENT_TIMESTAMP) is non-volatile.
  return { volatile, facts };
}

/** True when a DEFAULT expression may differ per row (forces a table rewrite). */
export function isVolatileDefault(expr: unknown, catalog: CatalogView = NO_CATALOG): boolean {
  return defaultVolatility(expr, catalog).volatile;
}

export const functionHandlers: HandlerTable = {
  DoStmt: (node, f) => {
    f.hit('opaque-statement', { message: 'DO block: its effect cannot be inspected' });
  },
  CallStmt: (node, f) => {
    f.hit('opaque-statement', { message: 'CALL of a procedure: its effect cannot be inspected' });
  },
  SelectStmt: (node, f) => {
    if (containsNode(node, new Set(['FuncCall'])))
      f.hit('opaque-statement', { message: 'SELECT that calls functions: their effect cannot be inspected' });
  },
};
