// VACUUM, CLUSTER and REFRESH MATERIALIZED VIEW: scans and rewrites outside the schema change proper.
import { asList, child, hasDefElem, rangeVarName } from '../ast.js';
import type { HandlerTable } from './context.js';

export const maintenanceHandlers: HandlerTable = {
  VacuumStmt: (node, f) => {
    const rels = asList(node.rels)
      .map((r) => rangeVarName(child(r, 'VacuumRelation')?.relation))
      .filter((n): n is string => Boolean(n));
    const full = hasDefElem(node.options, 'full');
    for (const r of rels) f.touch(r, full ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE');
    f.scansTable = true;
    if (full) {
      f.rewritesTable = true;
      f.hit('prefer-repack', {
        table: rels[0],
        message: `VACUUM FULL ${rels.join(', ') || '(all tables)'} rewrites under ACCESS EXCLUSIVE`,
      });
    }
  },
  ClusterStmt: (node, f) => {
    const t = rangeVarName(node.relation);
    f.touch(t, 'ACCESS EXCLUSIVE');
    f.rewritesTable = true;
    f.hit('prefer-repack', { table: t, message: `CLUSTER ${t ?? '(all tables)'} rewrites under ACCESS EXCLUSIVE` });
  },
  RefreshMatViewStmt: (node, f) => {
    const v = rangeVarName(node.relation);
    f.touch(v, node.concurrent ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE');
    f.scansTable = true;
    f.rewritesTable = !node.concurrent; // rebuilt into new storage
    if (!node.concurrent)
      f.hit('require-concurrent-refresh', {
        table: v,
        message: `REFRESH MATERIALIZED VIEW ${v ?? ''} blocks reads of the view while it runs`,
      });
  },
};
