// Small, defensive accessors over libpg-query's JSON AST (protobuf style: zero/false/empty fields are omitted).

export type Node = Record<string, unknown>;

export function asNode(v: unknown): Node | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
}

export function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The single key of a wrapped node ({ AlterTableCmd: {...} } → ['AlterTableCmd', {...}]). */
export function unwrap(v: unknown): [string, Node] | undefined {
  const n = asNode(v);
  if (!n) return undefined;
  const key = Object.keys(n)[0];
  if (!key) return undefined;
  return [key, asNode(n[key]) ?? {}];
}

export function child(v: unknown, type: string): Node | undefined {
  return asNode(asNode(v)?.[type]);
}

/** ['public','users'] from a list of String nodes. */
export function names(list: unknown): string[] {
  return asList(list)
    .map((n) => str(child(n, 'String')?.sval))
    .filter((s): s is string => s !== undefined);
}

/** "schema.table" (as written) for a RangeVar. */
export function rangeVarName(rv: unknown): string | undefined {
  const r = asNode(rv);
  const rel = str(r?.relname);
  if (!rel) return undefined;
  const schema = str(r?.schemaname);
  return schema ? `${schema}.${rel}` : rel;
}

export function location(v: unknown): number | undefined {
  const loc = asNode(v)?.location;
  return typeof loc === 'number' && loc >= 0 ? loc : undefined;
}

export function hasDefElem(list: unknown, name: string): boolean {
  return asList(list).some((item) => str(child(item, 'DefElem')?.defname) === name);
}

/** Depth-first search for any node of the given types anywhere below `v`. */
export function containsNode(v: unknown, types: ReadonlySet<string>): boolean {
  if (Array.isArray(v)) return v.some((x) => containsNode(x, types));
  const n = asNode(v);
  if (!n) return false;
  for (const [k, val] of Object.entries(n)) {
    if (types.has(k)) return true;
    if (val && typeof val === 'object' && containsNode(val, types)) return true;
  }
  return false;
}

/** Every node of a type below `v` (including `v`'s own children). */
export function collectNodes(v: unknown, type: string, out: Node[] = []): Node[] {
  if (Array.isArray(v)) {
    for (const x of v) collectNodes(x, type, out);
    return out;
  }
  const n = asNode(v);
  if (!n) return out;
  for (const [k, val] of Object.entries(n)) {
    if (k === type) {
      const node = asNode(val);
      if (node) out.push(node);
    }
    if (val && typeof val === 'object') collectNodes(val, type, out);
  }
  return out;
}
