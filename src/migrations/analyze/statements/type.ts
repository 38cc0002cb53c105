// Types: column type hygiene findings, binary-coercible type changes, enums and domains.
import { asList, asNode, child, location, names, str } from '../ast.js';
import { constraintsOf, type HandlerTable, type RawFinding } from './context.js';
import type { RuleId } from '../rules.js';

export const SERIAL_TYPES = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);

export interface TypeInfo {
  name: string;
  hasTypmods: boolean;
  isArray: boolean;
  loc?: number;
}

export function typeInfo(typeName: unknown): TypeInfo | undefined {
  const t = asNode(typeName);
  if (!t) return undefined;
  const parts = names(t.names);
  const name = (parts[parts.length - 1] ?? '').toLowerCase();
  const loc = location(t);
  return {
    name,
    hasTypmods: asList(t.typmods).length > 0,
    isArray: asList(t.arrayBounds).length > 0,
    ...(loc !== undefined ? { loc } : {}),
  };
}

/** squawk's column type hygiene rules (prefer-bigint-*, prefer-identity, prefer-text-field, ban-char-field …). */
export function typeFindings(
  typeName: unknown,
  fallbackLoc: number | undefined,
  column: string | undefined,
): RawFinding[] {
  const t = typeInfo(typeName);
  if (!t) return [];
  const loc = t.loc ?? fallbackLoc;
  const col = column ? `column ${column}` : 'the column';
  const at = (rule: RuleId, message: string): RawFinding => ({ rule, message, ...(loc !== undefined ? { loc } : {}) });
  const out: RawFinding[] = [];
  switch (t.name) {
    case 'int4':
    case 'int':
    case 'integer':
    case 'serial':
    case 'serial4':
      out.push(at('prefer-bigint-over-int', `${col} is a 32-bit integer; it can overflow at 2^31`));
      break;
    case 'int2':
    case 'smallint':
    case 'smallserial':
    case 'serial2':
      out.push(at('prefer-bigint-over-smallint', `${col} is a 16-bit integer; it overflows at 32767`));
      break;
    // char(n)/character(n) parse as bpchar; a bare "char" is the one-byte internal type, not blank-padded text.
    case 'bpchar':
      out.push(at('ban-char-field', `${col} is char(n): values are blank-padded`));
      break;
    case 'varchar':
      if (t.hasTypmods)
        out.push(at('prefer-text-field', `${col} is varchar(n): raising the limit later takes ACCESS EXCLUSIVE`));
      break;
    case 'timestamp':
      out.push(at('prefer-timestamptz', `${col} is timestamp without time zone`));
      break;
    case 'json':
      out.push(at('prefer-jsonb', `${col} is json, not jsonb`));
      break;
  }
  if (SERIAL_TYPES.has(t.name)) out.push(at('prefer-identity', `${col} is ${t.name}`));
  return out;
}

export const typeHandlers: HandlerTable = {
  AlterEnumStmt: (node, f, ctx) => {
    const typeName = names(node.typeName).join('.');
    if (node.oldVal !== undefined) {
      f.breaking = true;
      f.hit('renaming-enum-value', {
        message: `RENAME VALUE '${str(node.oldVal) ?? ''}' of ${typeName} to '${str(node.newVal) ?? ''}'`,
      });
    } else {
      if (ctx.pgMajor < 12) f.nonTransactional = 'ALTER TYPE … ADD VALUE (PostgreSQL < 12)';
      if (node.newValNeighbor === undefined)
        f.hit('require-enum-value-ordering', {
          message: `ADD VALUE '${str(node.newVal) ?? ''}' to ${typeName} without BEFORE/AFTER appends it at the end`,
        });
    }
  },
  CreateDomainStmt: (node, f) => {
    if (constraintsOf({ constraints: node.constraints }).some(([t]) => t === 'CONSTR_CHECK')) {
      f.hit('ban-create-domain-with-constraint', {
        message: `domain ${names(node.domainname).join('.')} has a CHECK constraint`,
      });
    }
  },
  AlterDomainStmt: (node, f) => {
    if (str(node.subtype) === 'C') {
      const con = child(node.def, 'Constraint');
      f.scansTable = !con?.skip_validation;
      f.hit('ban-alter-domain-with-add-constraint', {
        message: `ALTER DOMAIN ${names(node.typeName).join('.')} ADD CONSTRAINT re-checks every column that uses the domain`,
      });
    }
  },
};

/** A column type reduced to what binary coercibility depends on: base name, type modifiers, array-ness. */
export interface TypeSpec {
  base: string;
  mods: number[];
  array: boolean;
}

const FORMAT_TYPE_BASES: Record<string, string> = {
  'character varying': 'varchar',
  'bit varying': 'varbit',
  character: 'bpchar',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  integer: 'int4',
  bigint: 'int8',
  smallint: 'int2',
  boolean: 'bool',
};

/** format_type() output ('character varying(20)', 'numeric(10,2)', 'text[]') → TypeSpec. */
export function parseFormatType(text: string): TypeSpec {
  const m = /^(.*?)(?:\(([\d,\s]+)\))?(\[\])?$/.exec(text.trim());
  const rawBase = (m?.[1] ?? text).trim();
  return {
    base: FORMAT_TYPE_BASES[rawBase] ?? rawBase,
    mods: (m?.[2] ?? '')
      .split(',')
      .filter((x) => x.trim() !== '')
      .map(Number),
    array: Boolean(m?.[3]),
  };
}

/** TypeSpec of a TypeName AST node (constant modifiers only). */
export function typeSpec(typeName: unknown): TypeSpec | undefined {
  const t = asNode(typeName);
  const info = typeInfo(t);
  if (!t || !info) return undefined;
  const mods: number[] = [];
  for (const m of asList(t.typmods)) {
    const ival = asNode(child(m, 'A_Const')?.ival);
    if (!ival) return undefined; // a non-integer modifier: do not guess
    mods.push(typeof ival.ival === 'number' ? ival.ival : 0);
  }
  return { base: info.name, mods, array: info.isArray };
}

const DISPLAY_NAMES: Record<string, string> = {
  int4: 'integer',
  int8: 'bigint',
  int2: 'smallint',
  bpchar: 'char',
  bool: 'boolean',
  float8: 'double precision',
  float4: 'real',
};

export function formatSpec(t: TypeSpec): string {
  return `${DISPLAY_NAMES[t.base] ?? t.base}${t.mods.length ? `(${t.mods.join(',')})` : ''}${t.array ? '[]' : ''}`;
}

/**
 * Type changes Postgres performs without rewriting the table (sql-altertable.html Notes; strong_migrations' safe
 * list): widening varchar/varbit/numeric precision at the same scale, dropping the limit, varchar↔text, cidr→inet.
 */
export function isBinaryCoercible(from: TypeSpec, to: TypeSpec): boolean {
  if (from.array !== to.array) return false;
  if (from.base === to.base && from.mods.join(',') === to.mods.join(',')) return true;
  // Same type, target without a modifier: no length coercion is applied (coerce_type_typmod skips typmod -1), e.g.
  // vector(768) → vector. `char` and `bit` without a length parse with modifier 1, so they never get here.
  if (from.base === to.base && to.mods.length === 0) return true;
  const widens = (a: number[], b: number[]) => b.length === 0 || (a.length > 0 && (b[0] ?? 0) >= (a[0] ?? 0));
  if (from.base === 'varchar' && to.base === 'varchar') return widens(from.mods, to.mods);
  if (from.base === 'varbit' && to.base === 'varbit') return widens(from.mods, to.mods);
  if (from.base === 'varchar' && to.base === 'text') return true;
  if (from.base === 'text' && to.base === 'varchar') return to.mods.length === 0;
  if (from.base === 'numeric' && to.base === 'numeric') {
    if (to.mods.length === 0) return true;
    if (from.mods.length === 0) return false;
    return (to.mods[0] ?? 0) >= (from.mods[0] ?? 0) && (to.mods[1] ?? 0) === (from.mods[1] ?? 0);
  }
  return from.base === 'cidr' && to.base === 'inet';
}
