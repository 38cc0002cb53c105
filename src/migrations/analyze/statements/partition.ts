// Partition subcommands of ALTER TABLE: ATTACH (a scan unless a CHECK implies the bound) and DETACH.
import { asList, asNode, child, rangeVarName, str, type Node } from '../ast.js';
import { constantText } from '../catalog.js';
import type { Facts, StatementContext, SubcommandTable } from './context.js';

export const partitionSubcommands: SubcommandTable = {
  AT_DetachPartition: (cmd, s) => {
    const { ctx, f, table } = s;
    const pc = child(cmd.def, 'PartitionCmd');
    f.robust(false, 'DETACH PARTITION');
    if (!pc?.concurrent) {
      f.hit('require-concurrent-partition-detach', {
        table,
        message: `DETACH PARTITION ${rangeVarName(pc?.name) ?? ''} without CONCURRENTLY takes ACCESS EXCLUSIVE on ${table ?? ''}`,
      });
    } else {
      f.lock = 'SHARE UPDATE EXCLUSIVE';
      if (ctx.inExplicitTransaction)
        f.hit('ban-concurrent-index-creation-in-transaction', {
          table,
          message: 'DETACH PARTITION CONCURRENTLY is inside BEGIN … COMMIT: Postgres rejects it (25001)',
        });
    }
  },
  AT_AttachPartition: (cmd, s) => {
    const { ctx, f, table } = s;
    attachPartition(cmd, ctx, f, table);
  },
};

/**
 * ATTACH PARTITION (sql-altertable.html, ATTACH PARTITION, PG 12+): SHARE UPDATE EXCLUSIVE on the parent, ACCESS
 * EXCLUSIVE on the table being attached (and on a DEFAULT partition). "a full table scan is performed to check that
 * existing rows in the table do not violate the partition constraint. It is possible to avoid this scan by adding a
 * valid CHECK constraint to the table that allows only rows satisfying the desired partition constraint"; a DEFAULT
 * partition is scanned for rows that now belong to the new one.
 */
function attachPartition(cmd: Node, ctx: StatementContext, f: Facts, parent: string | undefined): void {
  const pc = child(cmd.def, 'PartitionCmd');
  const part = rangeVarName(pc?.name);
  f.touch(part, 'ACCESS EXCLUSIVE');
  if (!part || ctx.isNewTable(part)) {
    if (part) f.decidedBy.push(`${part} is created earlier in this migration set: nothing to scan`);
    return;
  }
  const bound = asNode(pc?.bound);
  const info = parent ? ctx.catalog.partitioned(parent) : undefined;
  let proof: string | undefined;
  const keyMatch = info ? /^RANGE \(([a-z_][a-z0-9_$]*)\)$/.exec(info.key) : null;
  if (keyMatch?.[1] && bound && str(bound.strategy) === 'r') {
    const lower = asList(bound.lowerdatums);
    const upper = asList(bound.upperdatums);
    const lo = lower.length === 1 ? constantText(lower[0]) : undefined;
    const hi = upper.length === 1 ? constantText(upper[0]) : undefined;
    if (lo !== undefined && hi !== undefined) proof = ctx.catalog.rangeBoundProof(part, keyMatch[1], lo, hi);
  }
  if (proof) f.decidedBy.push(`no scan of ${part}: the partition bound is implied by valid CHECK constraint ${proof}`);
  else {
    f.scansTable = true;
    f.decidedBy.push(
      info
        ? `scan: no valid CHECK constraint on ${part} implies the partition bound (partition key ${info.key})`
        : `scan: the live catalog was not read, so no CHECK constraint on ${part} is known to imply the bound`,
    );
    f.hit('partition-attach-scan', {
      table: part,
      message: `ATTACH PARTITION ${part} scans it under ACCESS EXCLUSIVE to check the partition bound`,
    });
  }
  if (info?.hasDefault) {
    f.scansTable = true;
    f.decidedBy.push(`scan: ${parent ?? ''} has a DEFAULT partition, which is scanned for rows of the new bound`);
    // No table: the parent's size says nothing about the DEFAULT partition's, so the finding is never downgraded.
    f.hit('partition-attach-scan', {
      message: `ATTACH PARTITION on ${parent ?? ''} also scans its DEFAULT partition under ACCESS EXCLUSIVE`,
    });
  }
}
