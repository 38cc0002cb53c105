// `rail-actions deploy`: one release of one or more services (parallel), optionally verified and rolled back —
// the same release model the railway-deploy and root actions run.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatDuration } from '../../core/duration.js';
import { InputError } from '../../core/errors.js';
import { scrubSecrets } from '../../core/redact.js';
import { parseExpectJson, parseExpectStatus, parseHeaders, secretHeaderValues } from '../../health/index.js';
import { createUploadTarball, type DeploySource, type FailureDiagnostics } from '../../railway/index.js';
import {
  cancelUnfinished,
  confirmProduction,
  deployRelease,
  needsHumanReason,
  prepareRelease,
  productionDeploymentOf,
  releaseSucceeded,
  rollbackRelease,
  verifyRelease,
  type AutodeployMode,
  type Release,
  type ServiceRelease,
  type VerifySpec,
} from '../../release/release.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type OptionSpec, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { RAILWAY_OPTIONS, SERVICE_OPTION, connectRailway, resolveRailway, serviceList } from '../railway.js';
import { Progress, table } from '../ui.js';

const VERIFY_OPTIONS: OptionSpec[] = [
  { name: 'health-path', type: 'string', value: 'PATH', description: "Verify each service at its public URL + this path (e.g. /health) after it is live." },
  { name: 'health-url', type: 'string', value: 'URL', description: 'Verify this URL instead (one service only).' },
  {
    name: 'expect-version',
    type: 'string',
    value: 'TEXT',
    default: 'deployment-id',
    description: "What the health body must contain: 'deployment-id' (the NEW deployment's id — have /health echo RAILWAY_DEPLOYMENT_ID), a literal value, or 'none'.",
  },
  { name: 'expect-status', type: 'string', value: 'CODES', default: '200', description: 'Accepted health statuses.' },
  { name: 'expect-json', type: 'string', multiple: true, value: 'PATH=VALUE', description: 'JSON condition on the health body.' },
  { name: 'consecutive-successes', type: 'string', value: 'N', default: '3', description: 'Healthy answers needed in a row.' },
  { name: 'verify-timeout', type: 'string', value: 'DURATION', default: '5m', description: 'How long the new version has to become healthy.' },
  { name: 'verify-window', type: 'string', value: 'DURATION', default: '30s', description: "Railway's status must stay SUCCESS this long after verification starts (catches CRASHED after SUCCESS)." },
  { name: 'header', short: 'H', type: 'string', multiple: true, value: 'NAME: VALUE', description: 'Header for the health requests; values are never printed.' },
  { name: 'rollback-on-failure', type: 'boolean', description: 'Roll every service whose new deployment went live back to its previous deployment when the release fails.' },
];

export const deployCommand: Command = {
  spec: {
    name: 'deploy',
    summary: 'Deploy one or more services as one release and wait for Railway to report the outcome (optionally verify, roll back).',
    details:
      "Sources: 'upload' sends --path as a gzip tarball (honouring .gitignore/.railwayignore, dropping .git and node_modules),\n" +
      "'commit' deploys a commit of a GitHub-connected service (--commit-sha is required: without one Railway redeploys the\n" +
      "commit the service already runs, not the branch head; Railway's own autodeploy of it is adopted, see --autodeploy), 'image' redeploys\n" +
      'an image-sourced service (--image to change the image). Ctrl-C stops waiting; the deployment continues on Railway.',
    options: [
      ...RAILWAY_OPTIONS,
      { ...SERVICE_OPTION, required: true },
      { name: 'source', type: 'string', value: 'upload|commit|image', default: 'upload', description: 'What to deploy.' },
      {
        name: 'path',
        type: 'string',
        multiple: true,
        value: 'DIR|SERVICE=DIR',
        default: '.',
        description: "Directory to upload (source 'upload'); monorepos: one 'service=dir' per service (repeat the flag).",
      },
      { name: 'commit-sha', type: 'string', value: 'SHA', description: "Commit to deploy (source 'commit'; required there)." },
      {
        name: 'autodeploy',
        type: 'string',
        value: 'adopt|refuse|deploy',
        default: 'adopt',
        description: "Source 'commit' on a service Railway deploys by itself (GitHub autodeploy): adopt its deployment of the commit, refuse, or deploy anyway.",
      },
      { name: 'autodeploy-wait', type: 'string', value: 'DURATION', default: '30s', description: "How long to wait for Railway's own deployment of the commit when autodeploy is on." },
      { name: 'image', type: 'string', value: 'IMAGE', description: "Image to deploy (source 'image')." },
      { name: 'timeout', type: 'string', value: 'DURATION', default: '30m', description: 'Give up waiting for Railway after this long.' },
      ...VERIFY_OPTIONS,
      { name: 'json', type: 'boolean', description: 'Print the release as JSON on stdout.' },
    ],
    examples: [
      'RAILWAY_TOKEN=… rail-actions deploy --service api --path . --health-path /health --rollback-on-failure',
      'rail-actions deploy --service api --service worker --source commit --commit-sha $(git rev-parse HEAD)',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    // Every flag is validated before the first API call.
    const services = serviceList(v);
    if (services.length === 0) throw new InputError('service', 'is required: give one or more service names or ids');
    const timeoutMs = v.duration('timeout') ?? 30 * 60_000;
    const sourceKind = v.string('source') ?? 'upload';
    if (!['upload', 'commit', 'image'].includes(sourceKind)) throw new InputError('source', `expected upload, commit or image, got '${sourceKind}'`);
    const verify = readVerify(v, services.length);
    const autodeploy = v.string('autodeploy') ?? 'adopt';
    if (!['adopt', 'refuse', 'deploy'].includes(autodeploy)) throw new InputError('autodeploy', `expected adopt, refuse or deploy, got '${autodeploy}'`);
    const autodeployWaitMs = v.duration('autodeploy-wait', { allowZero: true }) ?? 30_000;
    // The upload archive is built before the first API call: a bad path fails before anything is sent.
    const source = await readSource(v, sourceKind as DeploySource['kind'], services, ctx);

    const client = await connectRailway(v, ctx, { deadline: Date.now() + timeoutMs });
    const scrub = (t: string) => scrubSecrets(client.scrub(t), verify?.secrets ?? []);
    let progress: Progress | undefined;
    try {
      const target = await resolveRailway(client, v, services);
      const release = await prepareRelease(client, target, source, { log: (m) => ctx.log(ctx.errColor.dim(scrub(m))) });
      ctx.log(`Deploying ${release.services.map((s) => ctx.errColor.bold(s.service.name)).join(', ')} to ${target.project.name} / ${target.environment.name} (${source.kind})`);
      progress = new Progress(() => release.services.map((s) => `${s.service.name}: ${s.deploymentId ? `${s.deploymentId.slice(0, 8)} ${s.status || 'starting'}` : 'starting'}`).join(' · '), {
        stream: ctx.err,
      });
      const log = (m: string) => progress?.log(ctx.errColor.dim(scrub(m)));
      await deployRelease(client, release, source, {
        deadline: Date.now() + timeoutMs,
        signal: ctx.signal,
        log,
        useSubscription: !v.flag('no-websocket'),
        autodeploy: autodeploy as AutodeployMode,
        autodeployWaitMs,
      });

      if (verify && !ctx.signal.aborted) {
        await verifyRelease(client, release, (svc) => verify.specFor(svc, svc.deploymentId, false), { signal: ctx.signal, log });
      }
      const ok = releaseSucceeded(release);
      if (!ok && verify?.rollback && !ctx.signal.aborted) {
        await rollbackRelease(client, release, {
          deadline: Date.now() + timeoutMs,
          signal: ctx.signal,
          log,
          useSubscription: !v.flag('no-websocket'),
          specFor: (svc, id) => verify.specFor(svc, id, true),
        });
      }
      // What Railway runs, read back where the run did not prove it; with verification asked for, a deployment left
      // building at --timeout is cancelled so it cannot go live unverified later (Ctrl-C leaves it running, as said).
      const settle = client.derive({ deadline: Date.now() + 30_000 });
      try {
        if (verify && !ctx.signal.aborted) await cancelUnfinished(settle, release, { log });
        await confirmProduction(settle, release, { log });
      } finally {
        await settle.close();
      }
      progress.stop();
      report(release, ok, ctx, v.flag('json'), scrub);
      if (ctx.signal.aborted) {
        const inFlight = release.services.filter((s) => s.deploymentId && s.outcome === 'cancelled').map((s) => `${s.service.name} (${s.deploymentId})`);
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
      await client.close();
    }
  },
};

async function tarballOf(dir: string, ctx: CliContext, service?: string): Promise<{ dir: string; tarball: Buffer; files: string[] }> {
  const abs = path.resolve(dir);
  if (!(existsSync(abs) && statSync(abs).isDirectory())) throw new InputError('path', `'${dir}' is not a directory (resolved to ${abs})`);
  const { body, files } = await createUploadTarball(abs);
  ctx.log(ctx.errColor.dim(`Upload${service ? ` for ${service}` : ''}: ${files.length} file(s) from ${abs} (${(body.length / 1024).toFixed(1)} KiB gzip; .gitignore/.railwayignore applied)`));
  return { dir: abs, tarball: body, files };
}

/** `--source` and its companion flags, like the railway-deploy action's inputs. */
async function readSource(v: Values, kind: DeploySource['kind'], services: string[], ctx: CliContext): Promise<DeploySource> {
  if (kind === 'commit') {
    const sha = v.string('commit-sha')?.trim();
    if (sha && !/^[0-9a-f]{7,40}$/i.test(sha)) throw new InputError('commit-sha', `expected a git commit sha (7–40 hex characters), got '${sha}'`);
    return sha ? { kind, commitSha: sha } : { kind };
  }
  if (kind === 'image') {
    const image = v.string('image')?.trim();
    if (image && /\s/.test(image)) throw new InputError('image', `expected an image reference like ghcr.io/acme/api:1.2.3, got '${image}'`);
    return image ? { kind, image } : { kind };
  }
  // One directory for every service, or `service=dir` entries (monorepo: each service uploads its own root).
  const perService: Record<string, { dir: string; tarball: Buffer; files: string[] }> = {};
  let shared: string | undefined;
  for (const entry of v.list('path').map((p) => p.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (name && services.includes(name)) {
      if (perService[name]) throw new InputError('path', `names service '${name}' twice`);
      perService[name] = await tarballOf(entry.slice(eq + 1).trim(), ctx, name);
    } else if (shared !== undefined) {
      throw new InputError('path', "gives more than one directory without a service name; use 'service=dir' for each service");
    } else shared = entry;
  }
  const uncovered = services.filter((s) => !perService[s]);
  const base = uncovered.length > 0 || Object.keys(perService).length === 0 ? await tarballOf(shared ?? '.', ctx) : Object.values(perService)[0];
  if (!base) throw new InputError('path', 'names no directory to upload');
  const source: DeploySource = { kind, ...base };
  if (Object.keys(perService).length > 0) source.perService = perService;
  return source;
}

interface VerifyPlan {
  secrets: string[];
  rollback: boolean;
  /** `restored`: a rollback's deployment — a literal --expect-version names the undone release and is not asked of it. */
  specFor(svc: ServiceRelease, deploymentId: string | undefined, restored: boolean): VerifySpec | undefined;
}

function readVerify(v: Values, serviceCount: number): VerifyPlan | undefined {
  const healthPath = v.string('health-path')?.trim();
  const healthUrl = v.string('health-url')?.trim();
  const rollback = v.flag('rollback-on-failure');
  if (healthPath && healthUrl) throw new InputError('health-url', 'give either --health-url or --health-path, not both');
  if (healthUrl && serviceCount > 1) throw new InputError('health-url', 'works with one service; with several, use --health-path (appended to each service URL)');
  if (healthUrl) {
    try {
      new URL(healthUrl);
    } catch {
      throw new InputError('health-url', `expected an absolute http(s) URL, got '${healthUrl}'`);
    }
  }
  if (healthPath && !healthPath.startsWith('/')) throw new InputError('health-path', `expected a path starting with '/', got '${healthPath}'`);
  const headers = parseHeaders(v.list('header').join('\n'), 'header');
  const health = {
    expectStatus: parseExpectStatus(v.string('expect-status') ?? '200', 'expect-status'),
    expectJson: parseExpectJson(v.list('expect-json').join('\n'), 'expect-json'),
    consecutiveSuccesses: v.integer('consecutive-successes', { min: 1 }) ?? 3,
    intervalMs: 1000,
    maxIntervalMs: 10_000,
    timeoutMs: v.duration('verify-timeout') ?? 300_000,
    headers,
  };
  const windowMs = v.duration('verify-window', { allowZero: true }) ?? 30_000;
  const expect = (v.string('expect-version') ?? 'deployment-id').trim();
  if (!healthPath && !healthUrl) return rollback ? { secrets: [], rollback, specFor: () => undefined } : undefined;
  return {
    secrets: secretHeaderValues(headers),
    rollback,
    specFor(svc, deploymentId, restored) {
      const url = healthUrl ?? (svc.url ? new URL(healthPath as string, svc.url).toString() : undefined);
      if (!url) return undefined;
      const literal = expect !== 'none' && expect !== '' && expect !== 'deployment-id';
      const expectVersion = expect === 'none' || expect === '' ? undefined : expect === 'deployment-id' ? deploymentId : restored ? undefined : expect;
      const expectNote = restored && literal ? `--expect-version '${expect}' names the release that was rolled back, so the restored version is checked without it` : undefined;
      return { url, health, windowMs, ...(expectVersion ? { expectVersion } : {}), ...(expectNote ? { expectNote } : {}) };
    },
  };
}

function tailLines(d: FailureDiagnostics, n: number): string[] {
  const lines = [...d.buildLogs.map((l) => `build  ${l.message}`), ...d.deployLogs.map((l) => `deploy ${l.message}`)].slice(-n);
  for (const e of d.events.filter((x) => x.error)) lines.push(`event  ${e.step}: ${e.error}`);
  return lines;
}

function report(release: Release, ok: boolean, ctx: CliContext, json: boolean, scrub: (t: string) => string): void {
  if (json) {
    const data = release.services.map((s) => ({
      service: s.service.name,
      serviceId: s.service.id,
      previousDeploymentId: s.previousDeploymentId ?? null,
      deploymentId: s.deploymentId ?? null,
      status: s.status || null,
      outcome: s.outcome,
      message: scrub(s.message),
      url: s.url ?? null,
      healthy: s.verification ? s.verification.healthy : null,
      verification: s.verification ? scrub(s.verification.reason) : null,
      rollback: s.rollback ? { ok: s.rollback.ok, method: s.rollback.method ?? null, deploymentId: s.rollback.deploymentId ?? null, message: scrub(s.rollback.message) } : null,
      productionDeploymentId: productionDeploymentOf(s) ?? null,
      startedBy: s.start?.by ?? (s.deploymentId ? 'this-release' : null),
      needsHuman: needsHumanReason(s, release) ?? null,
      durationMs: s.triggeredAt && s.finishedAt ? s.finishedAt - s.triggeredAt : null,
    }));
    ctx.print(JSON.stringify({ ok, project: release.project, environment: release.environment, services: data }, null, 2));
    return;
  }
  const c = ctx.color;
  ctx.print(ok ? c.green(c.bold('✔ release is live')) : c.red(c.bold('✘ release failed')));
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
    if (s.rollback?.verification) ctx.print(`  restored version: ${s.rollback.verification.healthy ? 'healthy' : scrub(s.rollback.verification.reason)}`);
    if (s.diagnostics) for (const line of tailLines(s.diagnostics, 15)) ctx.print(c.dim(`  | ${scrub(line)}`));
    const human = needsHumanReason(s, release);
    if (human) ctx.print(c.yellow(`  needs a human: ${scrub(human)}`));
  }
}
