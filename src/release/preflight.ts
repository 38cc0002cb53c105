// Read-only checks before touching production (the root action's and railway-deploy's `check-only`, and
// `rail-actions doctor`): does the token reach the project, the environment and every service, what does Railway
// report about each (autodeploy, what serves, whether it can be rolled back to, domains). Every check ends
// confirmed, refuted or unknown, with what to do. Sends NO mutation: only queries.
import { InputError, errorMessage } from '../core/errors.js';
import { escapeMarkdownCell as esc } from '../core/text.js';
import type { RailwayClient } from '../railway/client.js';
import { checkSourceFits, type DeploySource } from '../railway/deploy.js';
import {
  commitOf,
  getAutoDeployStatus,
  readServiceState,
  releaseStartOf,
  sameCommit,
  type AutoDeployStatus,
  type ServiceInstanceState,
} from '../railway/deployments.js';
import { RailwayApiError } from '../railway/errors.js';
import { normaliseRootDirectory } from '../railway/upload.js';
import { resolveTarget, type NamedId, type RailwayTarget } from '../railway/resolve.js';

export type CheckVerdict = 'confirmed' | 'refuted' | 'unknown';

export interface PreflightCheck {
  /** What the check is about: 'token', 'project', 'environment', or a service name. */
  subject: string;
  check: string;
  verdict: CheckVerdict;
  detail: string;
  /** What to do (refuted and unknown checks). */
  todo?: string;
}

export interface ServiceFacts {
  service: NamedId;
  source: { repo: string | null; image: string | null };
  rootDirectory: string | null;
  activeDeploymentId: string | null;
  activeStatus: string | null;
  /** canRollback as Railway reports it for the serving deployment (null when nothing serves). */
  activeCanRollback: boolean | null;
  /** What a release would record as its rollback target (never one of the release's commit). */
  rollbackTargetId: string | null;
  /** GitHub autodeploy (null when it could not be read). */
  autodeploy: AutoDeployStatus | null;
  /** Railway's own deployment of the commit, when there is one (a release adopts it). */
  deploymentOfCommit: string | null;
  domains: string[];
  url: string | null;
}

export interface PreflightReport {
  tokenKind: RailwayClient['tokenKind'];
  project: NamedId | null;
  environment: NamedId | null;
  services: ServiceFacts[];
  checks: PreflightCheck[];
  /** No check was refuted. */
  ok: boolean;
}

export interface PreflightInputs {
  project?: string;
  environment?: string;
  services: string[];
  /** The source a release would deploy (checked against each service's source). */
  source?: DeploySource['kind'];
  commitSha?: string;
}

const SERVICES_UNCHECKED = 'not checked: the project or environment was not reached';

/** The report when connecting failed before anything could be resolved. */
export function failedConnectionReport(err: unknown): PreflightReport {
  return {
    tokenKind: 'project',
    project: null,
    environment: null,
    services: [],
    checks: connectionChecks(err),
    ok: false,
  };
}

/**
 * The checks a failed connection gives (the token probe is the first request: RailwayClient.connect). A refused token
 * is refuted; a network failure leaves everything unknown.
 */
export function connectionChecks(err: unknown): PreflightCheck[] {
  if (err instanceof InputError || (err instanceof RailwayApiError && err.isAuthError)) {
    return [
      {
        subject: 'token',
        check: 'Railway accepts the token',
        verdict: 'refuted',
        detail: errorMessage(err),
        todo: 'create a project token for the target environment (Project → Settings → Tokens), or an account/workspace token with project and environment set',
      },
    ];
  }
  return [
    {
      subject: 'token',
      check: 'Railway accepts the token',
      verdict: 'unknown',
      detail: `Railway could not be asked: ${errorMessage(err)}`,
      todo: "check the api-url and Railway's status page, then run again",
    },
  ];
}

export async function preflight(client: RailwayClient, inputs: PreflightInputs): Promise<PreflightReport> {
  const checks: PreflightCheck[] = [];
  const scope = client.projectScope;
  const workspaces = client.tokenKind === 'project' ? [] : await client.tokenWorkspaces().catch(() => []);
  checks.push({
    subject: 'token',
    check: 'Railway accepts the token',
    verdict: 'confirmed',
    detail:
      client.tokenKind === 'project'
        ? `a project token (sent as Project-Access-Token) scoped to project '${scope?.projectName ?? '?'}', environment '${scope?.environmentName ?? '?'}'`
        : `an account or workspace token (sent as Authorization: Bearer)${workspaces.length ? ` for workspace(s) ${workspaces.map((w) => `'${w.name}'`).join(', ')}` : ''}`,
  });

  const resolved = await resolveAll(client, inputs, checks);
  const services: ServiceFacts[] = [];
  if (resolved) {
    const facts = await Promise.all(resolved.services.map((s) => serviceChecks(client, resolved, s, inputs)));
    for (const f of facts) {
      checks.push(...f.checks);
      if (f.facts) services.push(f.facts);
    }
  }
  checks.push({
    subject: 'token',
    check: 'the token may deploy, roll back and cancel',
    verdict: 'unknown',
    detail:
      client.tokenKind === 'project'
        ? 'project tokens "can only perform deployment-related actions" (docs cli/deploying.md); deploying and redeploying are confirmed through the CLI, deploymentRollback and deploymentCancel with a project token are not documented — and cannot be tried here without changing production'
        : "an account/workspace token acts with its owner's rights; they cannot be tried here without changing production",
    todo: 'keep a way to roll back by hand ready (rail-actions rollback, or the dashboard) in case Railway refuses the rollback',
  });
  return {
    tokenKind: client.tokenKind,
    project: resolved?.project ?? null,
    environment: resolved?.environment ?? null,
    services,
    checks,
    ok: !checks.some((c) => c.verdict === 'refuted'),
  };
}

/** Project, environment and services by id or name; one failing service does not hide the others. */
async function resolveAll(
  client: RailwayClient,
  inputs: PreflightInputs,
  checks: PreflightCheck[],
): Promise<RailwayTarget | undefined> {
  const base = {
    ...(inputs.project ? { project: inputs.project } : {}),
    ...(inputs.environment ? { environment: inputs.environment } : {}),
  };
  const reached = (t: RailwayTarget): void => {
    checks.push({
      subject: 'project',
      check: 'the token reaches the project',
      verdict: 'confirmed',
      detail: `'${t.project.name}' (${t.project.id})`,
    });
    checks.push({
      subject: 'environment',
      check: 'the token reaches the environment',
      verdict: 'confirmed',
      detail: `'${t.environment.name}' (${t.environment.id})`,
    });
  };
  try {
    const target = await resolveTarget(client, { ...base, services: inputs.services });
    reached(target);
    for (const s of target.services)
      checks.push({ subject: s.name, check: 'the service exists in the project', verdict: 'confirmed', detail: s.id });
    return target;
  } catch (err) {
    if (!(err instanceof InputError) || err.input !== 'service') {
      const which = err instanceof InputError && err.input === 'environment' ? 'environment' : 'project';
      if (which === 'environment')
        checks.push({
          subject: 'project',
          check: 'the token reaches the project',
          verdict: 'confirmed',
          detail: `'${inputs.project || client.projectScope?.projectName || '?'}'`,
        });
      checks.push({
        subject: which,
        check: `the token reaches the ${which}`,
        verdict:
          err instanceof InputError || (err instanceof RailwayApiError && !err.retryable) ? 'refuted' : 'unknown',
        detail: errorMessage(err),
        todo:
          which === 'project'
            ? "give the project's name or id (an account/workspace token needs it), or use a project token of that project"
            : 'give an environment of the project (a project token works for its own environment only)',
      });
      for (const s of inputs.services)
        checks.push({
          subject: s,
          check: 'the service exists in the project',
          verdict: 'unknown',
          detail: SERVICES_UNCHECKED,
        });
      return undefined;
    }
  }
  // A service is wrong: resolve each alone, so every wrong one is named and the right ones are still checked.
  const found: NamedId[] = [];
  let target: RailwayTarget | undefined;
  for (const name of inputs.services) {
    try {
      const one = await resolveTarget(client, { ...base, services: [name] });
      target ??= one;
      found.push(...one.services);
      checks.push({
        subject: name,
        check: 'the service exists in the project',
        verdict: 'confirmed',
        detail: one.services[0]?.id ?? '',
      });
    } catch (err) {
      checks.push({
        subject: name,
        check: 'the service exists in the project',
        verdict: 'refuted',
        detail: errorMessage(err),
        todo: 'use the service name exactly as Railway shows it (case-sensitive) or its id',
      });
    }
  }
  if (!target) {
    checks.push({
      subject: 'project',
      check: 'the token reaches the project',
      verdict: 'confirmed',
      detail: `'${inputs.project || client.projectScope?.projectName || '?'}' (its services were listed)`,
    });
    return undefined;
  }
  reached(target);
  return { ...target, services: found };
}

async function serviceChecks(
  client: RailwayClient,
  target: RailwayTarget,
  service: NamedId,
  inputs: PreflightInputs,
): Promise<{ checks: PreflightCheck[]; facts?: ServiceFacts }> {
  const checks: PreflightCheck[] = [];
  const subject = service.name;
  const scope = { projectId: target.project.id, environmentId: target.environment.id, serviceId: service.id };
  let instance: ServiceInstanceState;
  let deployments;
  try {
    ({ instance, deployments } = await readServiceState(client, scope));
  } catch (err) {
    checks.push({
      subject,
      check: 'its state and deployments can be read',
      verdict: err instanceof RailwayApiError && !err.retryable ? 'refuted' : 'unknown',
      detail: client.scrub(errorMessage(err)),
      todo: `check that the service is deployed in '${target.environment.name}' and the token may read it`,
    });
    return { checks };
  }
  checks.push({
    subject,
    check: 'its state and deployments can be read',
    verdict: 'confirmed',
    detail: `${deployments.length} deployment(s) listed`,
  });

  if (inputs.source) checks.push(sourceCheck(subject, instance, inputs));

  const { active, rollbackTarget: target0, url } = releaseStartOf(instance, deployments, inputs.commitSha);
  checks.push(
    active
      ? {
          subject,
          check: 'a deployment serves now',
          verdict: 'confirmed',
          detail: `${active.id} (${active.status}, since ${active.createdAt})`,
        }
      : {
          subject,
          check: 'a deployment serves now',
          verdict: 'unknown',
          detail: 'nothing is SUCCESS or SLEEPING',
          todo: 'a first release has nothing to roll back to: watch it, or deploy a known-good version first',
        },
  );
  if (active) {
    checks.push(
      active.canRollback
        ? {
            subject,
            check: 'the serving deployment can be rolled back to',
            verdict: 'confirmed',
            detail: `${active.id} reports canRollback: true`,
          }
        : {
            subject,
            check: 'the serving deployment can be rolled back to',
            verdict: 'unknown',
            detail: `${active.id} reports canRollback: false — no public source says whether Railway reports it for the active deployment; a rollback re-reads it and falls back to deploymentRedeploy (a rebuild)`,
            todo: 'nothing now; a rollback will say which method it used',
          },
    );
  }
  checks.push(
    target0
      ? {
          subject,
          check: 'a release would have a rollback target',
          verdict: 'confirmed',
          detail: `${target0.id} (${target0.status}${inputs.commitSha ? `; deployments of ${inputs.commitSha.slice(0, 12)} are never chosen` : ''})`,
        }
      : {
          subject,
          check: 'a release would have a rollback target',
          verdict: 'unknown',
          detail: 'no earlier deployment is SUCCESS, SLEEPING or reports canRollback',
          todo: 'a failed release of this service could not be rolled back automatically',
        },
  );

  let autodeploy: AutoDeployStatus | null = null;
  const ofCommit = inputs.commitSha
    ? deployments.find(
        (d) => d.status !== 'REMOVED' && d.status !== 'REMOVING' && sameCommit(commitOf(d), inputs.commitSha),
      )
    : undefined;
  if (instance.source?.repo) {
    try {
      autodeploy = await getAutoDeployStatus(client, scope);
      const adopt = ofCommit
        ? ` Railway's deployment ${ofCommit.id} (${ofCommit.status}) of ${inputs.commitSha?.slice(0, 12)} exists: a release adopts it.`
        : '';
      checks.push({
        subject,
        check: 'GitHub autodeploy',
        verdict: 'confirmed',
        detail: autodeploy.enabled
          ? `on: Railway deploys every push of ${instance.source.repo} to the trigger branch by itself (docs deployments/github-autodeploys.md); with autodeploy: adopt a release follows that deployment instead of building the commit twice.${adopt}`
          : `off: only this pipeline deploys ${instance.source.repo}${autodeploy.reason ? ` (${autodeploy.reason})` : ''}.${adopt}`,
      });
    } catch (err) {
      checks.push({
        subject,
        check: 'GitHub autodeploy',
        verdict: 'unknown',
        detail: `serviceInstanceAutoDeployStatus could not be read: ${client.scrub(errorMessage(err))}`,
        todo: "a release then looks for Railway's own deployment of the commit before deploying (autodeploy: adopt)",
      });
    }
  } else {
    checks.push({
      subject,
      check: 'GitHub autodeploy',
      verdict: 'confirmed',
      detail: `not applicable: the service deploys ${instance.source?.image ? `the image ${instance.source.image}` : 'uploads'}`,
    });
  }

  const domains = [
    ...instance.domains.customDomains.map(
      (d) => `${d.domain}${d.status?.verified ? '' : ' (custom, not verified yet)'}`,
    ),
    ...instance.domains.serviceDomains.map((d) => d.domain),
  ];
  checks.push({
    subject,
    check: 'public domains',
    verdict: 'confirmed',
    detail: domains.length
      ? domains.join(', ')
      : "none: without a health-url line the service is verified by Railway's status (a worker)",
  });

  return {
    checks,
    facts: {
      service,
      source: { repo: instance.source?.repo ?? null, image: instance.source?.image ?? null },
      rootDirectory: instance.rootDirectory ?? null,
      activeDeploymentId: active?.id ?? null,
      activeStatus: active?.status ?? null,
      activeCanRollback: active ? active.canRollback : null,
      rollbackTargetId: target0?.id ?? null,
      autodeploy,
      deploymentOfCommit: ofCommit?.id ?? null,
      domains,
      url: url ?? null,
    },
  };
}

function sourceCheck(subject: string, instance: ServiceInstanceState, inputs: PreflightInputs): PreflightCheck {
  const check = `it can take source: ${inputs.source}`;
  if (inputs.source === 'upload') {
    // The archive is not built in a preflight; a Root Directory only changes how it is rooted (planUploadRoot).
    const root = normaliseRootDirectory(instance.rootDirectory);
    return {
      subject,
      check,
      verdict: 'confirmed',
      detail: root
        ? `uploads are built inside the Root Directory '/${root}': the archive keeps that prefix`
        : 'uploads are accepted (no Root Directory)',
    };
  }
  const probe: DeploySource =
    inputs.source === 'commit'
      ? inputs.commitSha
        ? { kind: 'commit', commitSha: inputs.commitSha }
        : { kind: 'commit' }
      : { kind: 'image' };
  try {
    checkSourceFits(subject, instance, probe);
    return {
      subject,
      check,
      verdict: 'confirmed',
      detail:
        inputs.source === 'commit'
          ? `connected to ${instance.source?.repo ?? '?'}`
          : `image ${instance.source?.image ?? '?'}`,
    };
  } catch (err) {
    return {
      subject,
      check,
      verdict: 'refuted',
      detail: errorMessage(err),
      todo: 'use the source the service is set up for',
    };
  }
}

/** Markdown for a job summary: one table row per check. */
export function renderPreflightMarkdown(report: PreflightReport, title: string): string {
  const icon: Record<CheckVerdict, string> = {
    confirmed: '✅ confirmed',
    refuted: '❌ refuted',
    unknown: '❔ unknown',
  };
  const rows = report.checks.map(
    (c) => `| ${esc(c.subject)} | ${esc(c.check)} | ${icon[c.verdict]} | ${esc(c.detail)} | ${esc(c.todo ?? '')} |`,
  );
  const counts = (['confirmed', 'refuted', 'unknown'] as const)
    .map((v) => `${report.checks.filter((c) => c.verdict === v).length} ${v}`)
    .join(', ');
  return [
    `## ${title}`,
    '',
    report.ok
      ? `✅ Nothing refuted (${counts}). No mutation was sent.`
      : `❌ Refuted checks must be fixed before deploying (${counts}). No mutation was sent.`,
    '',
    '| Subject | Check | Verdict | Detail | What to do |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
