// `rail-actions deploy`: one release of one or more services (parallel), optionally verified and rolled back — the
// same use case (runRelease) and the same option readers as the railway-deploy and root actions, so a decision (the
// result word, the rollback target, the migration guard) cannot differ between the terminal and CI.
import { readFile } from 'node:fs/promises';
import { formatDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import type { FailureDiagnostics } from '../../railway/index.js';
import { readBoolean } from '../../options/readers.js';
import { optionDefault } from '../../options/catalogue.js';
import { needsHumanReason, productionDeploymentOf, releaseJson, type Release } from '../../release/release.js';
import { readAutodeploySpec, readHealthSpec, readMigrateRisks, readSourceSpec } from '../../release/spec.js';
import { runRelease, type SwitchNames } from '../../release/use-cases.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type OptionSpec, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { catalogueFlags, cliSource, flagNames, jsonFlag } from '../options.js';
import { RAILWAY_OPTIONS, SERVICE_OPTION, cliRunIo, readCliRailwaySpec, requiredServices } from '../railway.js';
import { Progress, table } from '../ui.js';

/** How notes name the switches in a terminal. */
export const CLI_NAMES: SwitchNames = {
  verifyOff: 'no --verify / --health-url / --health-path',
  rollbackOff: 'no --rollback-on-failure',
  force: '--force',
};

/** The verification flags of deploy and rollback (the actions' verification inputs). */
export const VERIFY_NAMES = [
  'health-url',
  'health-path',
  'expect-version',
  'expect-status',
  'expect-json',
  'consecutive-successes',
  'health-interval',
  'health-timeout',
  'request-timeout',
  'max-latency',
  'health-headers',
  'verify-window',
];

export const VERIFY_FLAG_EXTRAS: Record<string, Partial<OptionSpec>> = {
  'health-url': {
    description: "One service: a URL (or 'none'); several: one 'service=URL' per service (repeat the flag).",
    multiple: true,
  },
  'expect-json': { multiple: true },
};

/** Older flag names kept as aliases of the catalogued ones (input name → flags, the catalogued one first). */
export const VERIFY_ALIASES: Record<string, string[]> = {
  'health-timeout': ['health-timeout', 'verify-timeout'],
  'health-headers': ['health-headers', 'header'],
};

export const ALIAS_FLAGS: OptionSpec[] = [
  {
    name: 'verify',
    type: 'boolean',
    description:
      "Verify each service by its rule (see --health-url; a service without one is checked at its public domain + --health-path, or by Railway's status). Implied by --health-url / --health-path.",
  },
  { name: 'verify-timeout', type: 'string', value: 'DURATION', description: 'Same as --health-timeout (older name).' },
  {
    name: 'header',
    short: 'H',
    type: 'string',
    multiple: true,
    value: 'NAME: VALUE',
    description: 'A health-check header (same as a --health-headers line); values are never printed.',
  },
];

const DEPLOY_NAMES = [
  'source',
  'path',
  'commit-sha',
  'autodeploy',
  'autodeploy-wait',
  'image',
  'timeout',
  'waiting-timeout',
];

export const deployCommand: Command = {
  spec: {
    name: 'deploy',
    summary:
      'Deploy one or more services as one release and wait for Railway to report the outcome (optionally verify, roll back).',
    details:
      "Sources: 'upload' sends --path as a gzip tarball (honouring .gitignore/.railwayignore, dropping .git and node_modules),\n" +
      "'commit' deploys a commit of a GitHub-connected service (give --commit-sha: without one Railway redeploys the\n" +
      "commit the service already runs, not the branch head; Railway's own autodeploy of it is adopted, see --autodeploy), 'image' redeploys\n" +
      'an image-sourced service (--image to change the image). The release runs what the root action runs: verify\n' +
      '(--verify, --health-url or --health-path), then with --rollback-on-failure roll every live service back — never across\n' +
      'a breaking/destructive migration of --migrate-plan unless --force. Ctrl-C stops waiting; the deployment continues on Railway.',
    options: [
      ...RAILWAY_OPTIONS,
      { ...SERVICE_OPTION, required: true },
      ...catalogueFlags('cli:deploy', DEPLOY_NAMES),
      ...catalogueFlags('cli:deploy', VERIFY_NAMES, VERIFY_FLAG_EXTRAS),
      ...catalogueFlags('cli:deploy', ['rollback', 'migrate-plan', 'force'], {
        'migrate-plan': { description: "A file: 'rail-actions plan --json' or the migrate-gate's plan output." },
      }),
      ...ALIAS_FLAGS,
      jsonFlag('the release'),
    ],
    inputAliases: flagNames('cli:deploy', ['rollback']),
    examples: [
      'RAILWAY_TOKEN=… rail-actions deploy --service api --path . --health-path /health --rollback-on-failure',
      'rail-actions deploy --service api --service worker --source commit --commit-sha $(git rev-parse HEAD)',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    // Every flag is validated before the first API call, by the readers the actions use.
    const services = requiredServices(v);
    const src = cliSource(v, { ...VERIFY_ALIASES, rollback: ['rollback-on-failure'] });
    const railway = readCliRailwaySpec(v, services, optionDefault('timeout', 'cli:deploy'));
    const verify = v.flag('verify') || v.given('health-url') || v.given('health-path');
    const health = readHealthSpec(src, services, { place: 'cli:deploy' });
    const rollbackOnFailure = readBoolean(src, 'rollback', optionDefault('rollback', 'cli:deploy') === 'true');
    const force = readBoolean(src, 'force', false);
    const risks = readMigrateRisks(await readPlanFile(v));
    const autodeploy = readAutodeploySpec(src);
    // The upload archive is built before the first API call: a bad path fails before anything is sent.
    const log = (m: string) => ctx.log(ctx.errColor.dim(m));
    const source = await readSourceSpec(src, services, { defaultKind: 'upload', log });

    let progress: Progress | undefined;
    const { io, scrub } = cliRunIo(railway, ctx, health.secrets, (line) =>
      progress ? progress.log(line) : ctx.log(line),
    );
    let current: Release | undefined;
    try {
      const run = await runRelease(
        {
          railway,
          source,
          autodeploy,
          verify,
          ...(verify ? { health } : {}),
          rollbackOnFailure,
          force,
          risks,
          names: CLI_NAMES,
        },
        {
          ...io,
          onPhase: (r, phase) => {
            current = r;
            if (phase === 'deploying' && !progress) {
              ctx.log(
                `Deploying ${r.services.map((s) => ctx.errColor.bold(s.service.name)).join(', ')} to ${r.project.name} / ${r.environment.name} (${source.kind})`,
              );
              progress = new Progress(
                () =>
                  (current?.services ?? [])
                    .map(
                      (s) =>
                        `${s.service.name}: ${s.deploymentId ? `${s.deploymentId.slice(0, 8)} ${s.status || 'starting'}` : 'starting'}`,
                    )
                    .join(' · '),
                { stream: ctx.err },
              );
            }
          },
        },
      );
      progress?.stop();
      const release = run.release;
      const ok = run.result === 'deployed';
      report(release, run.result, ok, ctx, v.flag('json'), (t) => scrub(run.scrub(t)), run.notes);
      if (run.error) throw run.error;
      if (ctx.signal.aborted) {
        const inFlight = release.services
          .filter((s) => s.deploymentId && s.outcome === 'cancelled')
          .map((s) => `${s.service.name} (${s.deploymentId})`);
        if (inFlight.length) {
          ctx.log(
            ctx.errColor.yellow(
              `Stopped waiting; Railway continues with ${inFlight.join(', ')}. Check with 'rail-actions status', undo with 'rail-actions rollback'.`,
            ),
          );
        }
        return EXIT_INTERRUPTED;
      }
      return ok ? EXIT_OK : EXIT_FAILED;
    } finally {
      progress?.stop();
    }
  },
};

/** --migrate-plan names a file (the action takes the JSON itself): its text, '' when not given. */
export async function readPlanFile(v: Values): Promise<string> {
  const planFile = v.string('migrate-plan')?.trim();
  if (!planFile) return '';
  try {
    return await readFile(planFile, 'utf8');
  } catch (err) {
    throw new InputError(
      'migrate-plan',
      `cannot read '${planFile}' (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

function tailLines(d: FailureDiagnostics, n: number): string[] {
  const lines = [
    ...d.buildLogs.map((l) => `build  ${l.message}`),
    ...d.deployLogs.map((l) => `deploy ${l.message}`),
  ].slice(-n);
  for (const e of d.events.filter((x) => x.error)) lines.push(`event  ${e.step}: ${e.error}`);
  return lines;
}

function report(
  release: Release,
  result: string,
  ok: boolean,
  ctx: CliContext,
  json: boolean,
  scrub: (t: string) => string,
  notes: string[],
): void {
  if (json) {
    // The action's `deployments` entries (releaseJson), plus the messages a terminal user reads.
    const entries = releaseJson(release);
    const data = release.services.map((s, i) => ({
      ...entries[i],
      message: scrub(s.message),
      verification: s.verification ? scrub(s.verification.reason) : null,
      rollback: s.rollback
        ? {
            ok: s.rollback.ok,
            method: s.rollback.method ?? null,
            deploymentId: s.rollback.deploymentId ?? null,
            message: scrub(s.rollback.message),
          }
        : null,
    }));
    ctx.print(
      scrub(
        JSON.stringify(
          { ok, result, project: release.project, environment: release.environment, services: data, notes },
          null,
          2,
        ),
      ),
    );
    return;
  }
  const c = ctx.color;
  ctx.print(ok ? c.green(c.bold('✔ release is live')) : c.red(c.bold(`✘ release failed (${result})`)));
  ctx.print(
    table(
      [
        ['SERVICE', 'BEFORE', 'DEPLOYED', 'STATUS', 'VERIFIED', 'NOW SERVING', 'TIME', 'URL'],
        ...release.services.map((s) => [
          s.service.name,
          s.previousDeploymentId ?? '—',
          s.deploymentId ?? '—',
          s.outcome === 'success' ? c.green(s.status) : c.red(s.status || s.outcome),
          s.verification ? (s.verification.healthy ? c.green('healthy') : c.red('unhealthy')) : '—',
          productionDeploymentOf(s) ?? '—',
          s.triggeredAt && s.finishedAt ? formatDuration(s.finishedAt - s.triggeredAt) : '—',
          s.url ?? '—',
        ]),
      ],
      c,
    ),
  );
  for (const s of release.services) {
    ctx.print(`${c.bold(s.service.name)}: ${scrub(s.message)}`);
    if (s.verification && !s.verification.healthy) ctx.print(`  verification: ${scrub(s.verification.reason)}`);
    if (s.rollback) ctx.print(`  rollback: ${scrub(s.rollback.message)}`);
    if (s.rollback?.verification)
      ctx.print(
        `  restored version: ${s.rollback.verification.healthy ? 'healthy' : scrub(s.rollback.verification.reason)}`,
      );
    if (s.diagnostics) for (const line of tailLines(s.diagnostics, 15)) ctx.print(c.dim(`  | ${scrub(line)}`));
    const human = needsHumanReason(s, release);
    if (human) ctx.print(c.yellow(`  needs a human: ${scrub(human)}`));
  }
  for (const note of notes) ctx.print(c.dim(scrub(note)));
}
