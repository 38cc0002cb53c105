// Which rule verifies each service of a release, from `health-url`: an HTTP health check (a `service=URL` line, or
// the service's public domain + health-path) or Railway's own status (a `service=none` line, or a service with no
// URL and no public domain — a worker). The root action and the rollback action both use this, so a release and its
// rollback judge every service the same way.
import { InputError } from '../core/errors.js';
import { resolveExpectVersion } from './policies.js';
import type { HttpVerifySpec, ServiceRelease, VerifyRule, VerifySpec } from './release.js';

/** The `service=none` value: no HTTP check, verified by Railway's status. */
export const NO_HTTP = 'none';

export interface HealthUrls {
  /** Service name or id (as written in health-url) → URL, or NO_HTTP. */
  named: Map<string, string>;
  /** One URL (or `none`) without a service name: only accepted when the release has exactly one service. */
  single?: string;
}

/**
 * Parses `health-url`: one URL (one service only), or one `service=URL` / `service=none` line per service. `known`
 * are the names/ids a line may use (what `service` lists, plus names recorded in a deployments JSON); `count` is the
 * number of services. With several services a URL without a name is refused: applying one URL to every service is
 * what made a good worker fail the api's deployment-id check.
 */
export function parseHealthUrls(
  text: string,
  services: { known: readonly string[]; count: number },
  input = 'health-url',
): HealthUrls {
  const out: HealthUrls = { named: new Map() };
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    // A key has no ':' or '/', so a URL whose query holds '=' is never read as `service=URL`.
    const m = /^([^=:/]+?)\s*=\s*(.*)$/.exec(line);
    if (m) {
      const key = (m[1] ?? '').trim();
      const value = (m[2] ?? '').trim();
      if (!services.known.includes(key)) {
        throw new InputError(
          input,
          `names '${key}', which is not one of the services (${services.known.join(', ') || 'none given'})`,
        );
      }
      if (out.named.has(key)) throw new InputError(input, `names service '${key}' twice`);
      out.named.set(key, checkTarget(value, input));
      continue;
    }
    if (services.count > 1) {
      throw new InputError(
        input,
        `with several services, say which URL belongs to which: one 'service=URL' line per service ('service=none' for a service without HTTP, e.g. a worker, verified by Railway's status). Got '${line}'`,
      );
    }
    if (out.single !== undefined)
      throw new InputError(input, "gives more than one URL without a service name; use 'service=URL' lines");
    out.single = checkTarget(line, input);
  }
  return out;
}

function checkTarget(value: string, input: string): string {
  if (value.toLowerCase() === NO_HTTP) return NO_HTTP;
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new InputError(input, `expected an http(s) URL or 'none', got '${value}'`);
}

export interface VerifyRules {
  urls: HealthUrls;
  /** Appended to a service's public domain when health-url does not name it. */
  healthPath: string;
  /** deployment-id (the deployment being verified), commit, none, or a literal value. */
  expectVersion: string;
  http: HttpVerifySpec['health'];
  windowMs: number;
}

export type RuleChoice =
  { rule: 'http'; url: string; from: 'health-url' | 'domain' } | { rule: 'railway-status'; why: string };

/** The rule for one service: its health-url line, else its public domain + health-path, else Railway's status. */
export function ruleFor(
  rules: Pick<VerifyRules, 'urls' | 'healthPath'>,
  svc: Pick<ServiceRelease, 'service' | 'url'>,
): RuleChoice {
  const given = rules.urls.named.get(svc.service.name) ?? rules.urls.named.get(svc.service.id) ?? rules.urls.single;
  if (given === NO_HTTP) return { rule: 'railway-status', why: `health-url says ${svc.service.name}=none` };
  if (given) return { rule: 'http', url: given, from: 'health-url' };
  if (svc.url) return { rule: 'http', url: new URL(rules.healthPath, svc.url).toString(), from: 'domain' };
  return { rule: 'railway-status', why: 'no health-url and no public domain' };
}

/**
 * The verification of one deployment of `svc` (the new one, or one a rollback created) by the service's rule; what
 * its body must contain is resolveExpectVersion's decision. `restored`: the deployment RESTORED an earlier version
 * while undoing a release — checked against its own identity, never the literal that named the undone release.
 */
export function verifySpecFor(
  rules: VerifyRules,
  svc: Pick<ServiceRelease, 'service' | 'url'>,
  deploymentId: string,
  commitSha?: string,
  opts: { restored?: boolean } = {},
): VerifySpec {
  const choice = ruleFor(rules, svc);
  if (choice.rule === 'railway-status') return { rule: 'railway-status', windowMs: rules.windowMs, why: choice.why };
  const expect = resolveExpectVersion(rules.expectVersion, {
    deploymentId,
    ...(commitSha ? { commitSha } : {}),
    ...(opts.restored ? { restored: true } : {}),
  });
  const spec: HttpVerifySpec = { rule: 'http', url: choice.url, health: rules.http, windowMs: rules.windowMs };
  if (expect.value) spec.expectVersion = expect.value;
  if (expect.note) spec.expectNote = expect.note;
  return spec;
}

/**
 * The verification of a deployment that RESTORED an earlier version while undoing a release (a rollback, or a
 * redeploy of the target): the restored deployment's own id with expect-version deployment-id (RAILWAY_DEPLOYMENT_ID
 * is the new deployment's; a rollback is a new deployment, docs guides/roll-back-bad-deploy.md), the restored commit
 * with expect-version commit when it is known, and nothing with a literal value.
 */
export function verifySpecForRestored(
  rules: VerifyRules,
  svc: Pick<ServiceRelease, 'service' | 'url'>,
  restoredDeploymentId: string,
  restoredCommit?: string,
): VerifySpec {
  return verifySpecFor(rules, svc, restoredDeploymentId, restoredCommit, { restored: true });
}

/** One line per service for logs and summaries: which rule verifies it. */
export function describeRule(choice: RuleChoice): string {
  return choice.rule === 'http'
    ? `HTTP ${choice.url}${choice.from === 'domain' ? ' (public domain + health-path)' : ''}`
    : `Railway status (${choice.why})`;
}

export type { VerifyRule };
