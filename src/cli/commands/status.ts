// `rail-actions status`: what each service runs now, and what a rollback would restore (the rollback's own rule).
import { formatDuration } from '../../core/duration.js';
import { getDeployment, getServiceInstance, listDeployments, pickActive, serviceUrlOf } from '../../railway/index.js';
import { chooseRollbackTarget } from '../../release/policies.js';
import { EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { jsonFlag } from '../options.js';
import { RAILWAY_OPTIONS, SERVICE_OPTION, connectRailway, resolveRailway, serviceList } from '../railway.js';
import { table, type Palette } from '../ui.js';

interface ServiceStatus {
  service: string;
  serviceId: string;
  activeDeploymentId: string | null;
  activeStatus: string | null;
  activeSince: string | null;
  latestDeploymentId: string | null;
  latestStatus: string | null;
  rollbackTargetId: string | null;
  url: string | null;
  /** Replica states of the serving deployment (a crash loop can hide behind SUCCESS). */
  instances: Array<{ id: string; status: string }>;
}

function instancesText(instances: ServiceStatus['instances'], c: Palette): string {
  if (instances.length === 0) return '—';
  const counts = new Map<string, number>();
  for (const i of instances) counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
  return [...counts]
    .map(([status, n]) => (status === 'RUNNING' ? c.green(`${n} ${status}`) : c.yellow(`${n} ${status}`)))
    .join(', ');
}

const age = (iso: string | null): string =>
  iso ? `${formatDuration(Math.max(0, Date.now() - Date.parse(iso)))} ago` : '—';

export const statusCommand: Command = {
  spec: {
    name: 'status',
    summary: 'Show what each service runs now (active deployment, latest deployment, rollback target, URL).',
    options: [...RAILWAY_OPTIONS, { ...SERVICE_OPTION, required: true }, jsonFlag('the status')],
    examples: ['RAILWAY_TOKEN=… rail-actions status --service api --service worker'],
  },
  async run(v: Values, ctx: CliContext) {
    const services = serviceList(v);
    const client = await connectRailway(v, ctx);
    try {
      const target = await resolveRailway(client, v, services);
      const rows: ServiceStatus[] = await Promise.all(
        target.services.map(async (s) => {
          const scope = { projectId: target.project.id, environmentId: target.environment.id, serviceId: s.id };
          const [instance, deployments] = await Promise.all([
            getServiceInstance(client, scope),
            listDeployments(client, scope, { maxPages: 2 }),
          ]);
          const active = pickActive(deployments);
          const latest = deployments[0];
          // What `rail-actions rollback` and the rollback action would restore (one rule: chooseRollbackTarget).
          const rollbackTarget = chooseRollbackTarget(deployments);
          const detail = active ? await getDeployment(client, active.id) : undefined;
          return {
            service: s.name,
            serviceId: s.id,
            activeDeploymentId: active?.id ?? null,
            activeStatus: active?.status ?? null,
            activeSince: active?.createdAt ?? null,
            latestDeploymentId: latest?.id ?? null,
            latestStatus: latest?.status ?? null,
            rollbackTargetId: rollbackTarget?.targetId ?? null,
            url: serviceUrlOf(instance) ?? null,
            instances: detail?.instances ?? [],
          };
        }),
      );
      if (v.flag('json')) {
        ctx.print(
          JSON.stringify({ project: target.project, environment: target.environment, services: rows }, null, 2),
        );
        return EXIT_OK;
      }
      const c = ctx.color;
      ctx.print(`${c.bold(target.project.name)} / ${c.bold(target.environment.name)}`);
      ctx.print(
        table(
          [
            ['SERVICE', 'SERVING NOW', 'STATUS', 'INSTANCES', 'DEPLOYED', 'LATEST', 'ROLLBACK TARGET', 'URL'],
            ...rows.map((r) => [
              r.service,
              r.activeDeploymentId ?? c.yellow('nothing'),
              r.activeStatus ? c.green(r.activeStatus) : '—',
              instancesText(r.instances, c),
              age(r.activeSince),
              r.latestDeploymentId && r.latestDeploymentId !== r.activeDeploymentId
                ? `${r.latestDeploymentId} (${r.latestStatus ?? '?'})`
                : 'same',
              r.rollbackTargetId ?? '—',
              r.url ?? '—',
            ]),
          ],
          c,
        ),
      );
      return EXIT_OK;
    } finally {
      await client.close();
    }
  },
};
