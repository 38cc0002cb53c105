// The typed specs of the release family (railway-deploy, release, rollback, health-check; `rail-actions deploy`,
// `rollback`, `status`, `verify`), read once from any InputSource — an action's inputs or the CLI's flags — so names,
// defaults, bounds and error wording cannot differ between the two front ends. Nothing here sends a request.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { FETCH_HEADERS_MAX_MS, HOSTED_JOB_MAX_MS } from '../core/duration.js';
import { InputError } from '../core/errors.js';
import { quoteValue, secretParts } from '../core/redact.js';
import {
  parseExpectJson,
  parseExpectStatus,
  parseHeaders,
  secretHeaderValues,
  type HealthCheckOptions,
} from '../health/index.js';
import { parseApiUrl } from '../railway/client.js';
import type { DeploySource } from '../railway/deploy.js';
import { createUploadTarball } from '../railway/upload.js';
import { optionDefault, type Place } from '../options/catalogue.js';
import {
  given,
  notLongerThan,
  oneLine,
  readBoolean,
  readChoice,
  readDuration,
  readInteger,
  readList,
  readRaw,
  readString,
  readToken,
  readUrl,
  sendableHeaders,
} from '../options/readers.js';
import type { InputSource } from '../options/source.js';
import { parseMigratePlan, riskyMigrations, type MigrationRisk } from './migrate-guard.js';
import type { RecordedEntry } from './policies.js';
import type { AutodeployMode } from './release.js';
import { parseHealthUrls, type VerifyRules } from './verify-rules.js';

/** More healthy answers in a row (or failures before giving up) than any check needs; a bound keeps a typo like 3000000 from a check that can never pass. */
export const MAX_STREAK = 100;

/**
 * The longest pause between failed health attempts when none is given: 10 s, or the interval when that is longer (an
 * explicit max-interval shorter than interval is an error, validateHealthOptions). One rule for every health check.
 */
export function defaultMaxInterval(intervalMs: number): number {
  return Math.max(10_000, intervalMs);
}

export interface RailwaySpec {
  token: string;
  apiUrl: string;
  project: string;
  environment: string;
  services: string[];
  timeoutMs: number;
  waitingTimeoutMs: number;
  subscriptions: boolean;
}

/**
 * The connection options (token masked first). railway-token must be a header-safe token (readToken), api-url one URL
 * without credentials: fetch refuses a URL with user:password@ (Fetch standard, Request constructor: "If parsedURL
 * includes credentials, then throw a TypeError"), and Railway authenticates by the token header anyway. Durations are
 * bounded by the 6 h a job may run on a GitHub-hosted runner.
 */
export function readRailwaySpec(
  src: InputSource,
  opts: { servicesRequired: boolean; defaultTimeout: string },
): RailwaySpec {
  const token = readToken(src, 'railway-token', { required: true }).trim();
  const rawApiUrl = oneLine('api-url', readRaw(src, 'api-url').trim());
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(rawApiUrl)) {
    throw new InputError(
      'api-url',
      `must not contain credentials (user:password@): Railway is authenticated by railway-token, and fetch refuses such URLs; got ${quoteValue(rawApiUrl)}`,
    );
  }
  const apiUrl = parseApiUrl(rawApiUrl, 'api-url').toString();
  const services = readList(src, 'service');
  if (opts.servicesRequired && services.length === 0)
    throw new InputError('service', 'is required: one or more service names or ids, one per line');
  return {
    token,
    apiUrl,
    project: readString(src, 'project'),
    environment: readString(src, 'environment'),
    services,
    timeoutMs: readDuration(src, 'timeout', opts.defaultTimeout, { max: HOSTED_JOB_MAX_MS }),
    waitingTimeoutMs: readDuration(src, 'waiting-timeout', optionDefault('waiting-timeout'), {
      max: HOSTED_JOB_MAX_MS,
    }),
    subscriptions: readBoolean(src, 'subscriptions', true),
  };
}

/**
 * `source` and its companion options; the upload tarball is built here, before anything is mutated. `fallbackSha`:
 * the commit an empty commit-sha falls back to (the workflow's GITHUB_SHA in an action) — serviceInstanceDeployV2
 * without a commitSha redeploys the commit the service already runs, NOT the branch head (docs
 * integrations/api/manage-services.md; docs PR #1163), so an action always sends a commit.
 */
export async function readSourceSpec(
  src: InputSource,
  services: string[],
  opts: {
    upload?: boolean;
    defaultKind?: DeploySource['kind'];
    fallbackSha?: string;
    base?: string;
    log?: (m: string) => void;
  } = {},
): Promise<DeploySource> {
  const kind = readChoice(src, 'source', ['commit', 'upload', 'image'] as const, opts.defaultKind ?? 'commit');
  if (kind === 'commit') {
    const givenSha = readString(src, 'commit-sha').trim();
    const sha = givenSha || (opts.fallbackSha ?? '').trim();
    if (sha && !/^[0-9a-f]{7,40}$/i.test(sha))
      throw new InputError(
        givenSha ? 'commit-sha' : 'commit-sha',
        `expected a git commit sha (7–40 hex characters), got '${sha}'`,
      );
    if (!givenSha && sha) opts.log?.(`commit-sha is empty: deploying the workflow's commit ${sha} (GITHUB_SHA)`);
    return sha ? { kind, commitSha: sha } : { kind };
  }
  if (kind === 'image') {
    const image = readString(src, 'image').trim();
    if (image && /\s/.test(image))
      throw new InputError('image', `expected an image reference like ghcr.io/acme/api:1.2.3, got '${image}'`);
    return image ? { kind, image } : { kind };
  }
  // A read-only preflight builds no archive (nothing is uploaded).
  if (opts.upload === false) return { kind, dir: '.', tarball: Buffer.alloc(0), files: [] };
  // `path`: one directory for every service, or `service=dir` lines (monorepo: each service uploads its own root).
  const lines = (src.get('path') ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const base = opts.base ?? process.cwd();
  const tarballOf = async (dir: string, service?: string) => {
    const abs = path.resolve(base, dir);
    // createUploadTarball refuses a directory that does not exist (naming 'path'); a file is refused here.
    if (existsSync(abs) && !statSync(abs).isDirectory())
      throw new InputError('path', `${quoteValue(dir)} is not a directory (resolved to ${quoteValue(abs)})`);
    const { body, files } = await createUploadTarball(abs);
    opts.log?.(
      `Upload${service ? ` for ${service}` : ''}: ${files.length} file(s) from '${dir}' (${(body.length / 1024).toFixed(1)} KiB gzip; .gitignore/.railwayignore applied; .git and node_modules dropped)`,
    );
    return { dir: abs, tarball: body, files };
  };
  const perService: Record<string, { dir: string; tarball: Buffer; files: string[] }> = {};
  let shared: string | undefined;
  for (const line of lines) {
    const eq = line.indexOf('=');
    const name = eq > 0 ? line.slice(0, eq).trim() : '';
    if (name && services.includes(name)) {
      if (perService[name]) throw new InputError('path', `names service '${name}' twice`);
      perService[name] = await tarballOf(line.slice(eq + 1).trim(), name);
    } else if (shared !== undefined) {
      throw new InputError('path', "gives more than one directory without a service name; use 'service=dir' lines");
    } else shared = line;
  }
  const uncovered = services.filter((s) => !perService[s]);
  const archive =
    uncovered.length > 0 || Object.keys(perService).length === 0
      ? await tarballOf(shared ?? '.')
      : Object.values(perService)[0];
  if (!archive) throw new InputError('path', 'names no directory to upload');
  const source: DeploySource = { kind, ...archive };
  if (Object.keys(perService).length > 0) source.perService = perService;
  return source;
}

/** The autodeploy options (commit sources): adopt Railway's own deployment of the commit, refuse, or deploy anyway. */
export function readAutodeploySpec(src: InputSource): { mode: AutodeployMode; waitMs: number } {
  return {
    mode: readChoice(src, 'autodeploy', ['adopt', 'refuse', 'deploy'] as const, 'adopt'),
    waitMs: readDuration(src, 'autodeploy-wait', optionDefault('autodeploy-wait'), {
      allowZero: true,
      max: HOSTED_JOB_MAX_MS,
    }),
  };
}

export interface HealthSpec extends VerifyRules {
  /** URL parts and header values to scrub from summaries (also masked). */
  secrets: string[];
}

/**
 * The verification options, validated before any network call. health-url: one URL (one service only), or one
 * `service=URL` / `service=none` line per service; a service it does not name is checked at its public domain +
 * health-path, or by Railway's status when it has no domain. `known` adds names a line may use besides `services`
 * (the rollback's recorded deployments). expect-version: `deployment-id` (default), `commit`, `none`, or text
 * (resolveExpectVersion).
 */
export function readHealthSpec(
  src: InputSource,
  services: string[],
  opts: { known?: string[]; place?: Place } = {},
): HealthSpec {
  const fallback = (name: string) => optionDefault(name, opts.place);
  const known = [...new Set([...services, ...(opts.known ?? [])])];
  // readRaw masks every URL's credentials before parseHealthUrls can quote a line it refuses.
  const rawUrls = readRaw(src, 'health-url');
  const secrets = secretParts(rawUrls);
  const urls = parseHealthUrls(rawUrls, { known, count: services.length });
  const headers = sendableHeaders(
    'health-headers',
    parseHeaders(readString(src, 'health-headers', { multiline: true }), 'health-headers'),
  );
  const headerSecrets = secretHeaderValues(headers);
  src.mask(headerSecrets);
  secrets.push(...headerSecrets);
  const healthPath = readString(src, 'health-path', { fallback: fallback('health-path') }).trim();
  // Resolved against each service's domain (new URL(path, domain)): '//host', a scheme or a backslash ('/\host' is
  // '//host' to the WHATWG parser) would point the check at another host.
  if (!/^\/(?![/\\])[^\s\\]*$/.test(healthPath)) {
    throw new InputError(
      'health-path',
      `expected a path starting with a single / (e.g. /health), appended to each service's domain; got ${quoteValue(healthPath)}`,
    );
  }
  const expectVersion = readString(src, 'expect-version', { fallback: fallback('expect-version') }).trim();
  const expectStatus = parseExpectStatus(
    readString(src, 'expect-status', { fallback: '200', multiline: true }),
    'expect-status',
  );
  const expectJson = parseExpectJson(readString(src, 'expect-json', { multiline: true }), 'expect-json');
  const consecutiveSuccesses = readInteger(src, 'consecutive-successes', 3, { min: 1, max: MAX_STREAK });
  // Bounds (stated in the help): a job runs at most 6 h on a GitHub-hosted runner; fetch gives up on headers after
  // 300 s; an interval longer than the check, or a latency limit above the request timeout, cannot take effect.
  const timeoutMs = readDuration(src, 'health-timeout', fallback('health-timeout'), { max: HOSTED_JOB_MAX_MS });
  const intervalMs = readDuration(src, 'health-interval', fallback('health-interval'));
  notLongerThan(src, 'health-interval', intervalMs, 'health-timeout', timeoutMs);
  const requestTimeoutMs = readDuration(src, 'request-timeout', fallback('request-timeout'), {
    max: FETCH_HEADERS_MAX_MS,
  });
  const maxLatencyMs = given(src, 'max-latency') ? readDuration(src, 'max-latency', '1s') : undefined;
  if (maxLatencyMs !== undefined) notLongerThan(src, 'max-latency', maxLatencyMs, 'request-timeout', requestTimeoutMs);
  const windowMs = readDuration(src, 'verify-window', fallback('verify-window'), {
    allowZero: true,
    max: HOSTED_JOB_MAX_MS,
  });
  return {
    urls,
    healthPath,
    expectVersion,
    secrets,
    windowMs,
    http: {
      expectStatus,
      expectJson,
      consecutiveSuccesses,
      intervalMs,
      maxIntervalMs: defaultMaxInterval(intervalMs),
      timeoutMs,
      requestTimeoutMs,
      maxLatencyMs,
      headers,
    },
  };
}

/** The migrate plan's breaking/destructive migrations (migrate-guard.ts); `text` is the plan itself. */
export function readMigrateRisks(text: string, input = 'migrate-plan'): MigrationRisk[] {
  return riskyMigrations(parseMigratePlan(text, input));
}

/** The `deployments` JSON a rollback takes (railway-deploy's / the root action's output). */
export function parseRecorded(text: string, input = 'deployments'): RecordedEntry[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new InputError(input, "expected the JSON 'deployments' output of railway-deploy, but it is not valid JSON");
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (!list.every((e) => e && typeof e === 'object'))
    throw new InputError(input, 'expected a JSON array of objects (the railway-deploy output)');
  return list as RecordedEntry[];
}

/** A plain health check (the health-check action, `rail-actions verify`): one URL, its expectations and pacing. */
export interface CheckSpec {
  options: Omit<HealthCheckOptions, 'signal' | 'onAttempt'>;
  /** URL credentials and header values: never printed. */
  secrets: string[];
}

/**
 * The health-check options. Every reader masks the value's credentials (URL userinfo, credential query parameters)
 * before it is parsed, so no later message — an input error included — can print them. Bounds: a job runs at most
 * 6 h on a GitHub-hosted runner; fetch gives up on headers after 300 s.
 */
export function readCheckSpec(src: InputSource): CheckSpec {
  const url = readUrl(src, 'url', { required: true });
  const secrets = secretParts(src.get('url') ?? '');
  const headers = sendableHeaders('headers', parseHeaders(readString(src, 'headers', { multiline: true }), 'headers'));
  const headerSecrets = secretHeaderValues(headers);
  src.mask(headerSecrets);
  secrets.push(...headerSecrets);
  const expectStatus = parseExpectStatus(
    readString(src, 'expect-status', { fallback: '200', multiline: true }),
    'expect-status',
  );
  const expectJson = parseExpectJson(readString(src, 'expect-json', { multiline: true }), 'expect-json');
  const expectVersion = readString(src, 'expect-version').trim() || undefined;
  const consecutiveSuccesses = readInteger(src, 'consecutive-successes', 3, { min: 1, max: MAX_STREAK });
  const timeoutMs = readDuration(src, 'timeout', '5m', { max: HOSTED_JOB_MAX_MS });
  const intervalMs = readDuration(src, 'interval', '1s');
  notLongerThan(src, 'interval', intervalMs, 'timeout', timeoutMs);
  // An explicit max-interval shorter than interval is an error (the core says so); the default adapts to interval.
  const maxIntervalMs = given(src, 'max-interval')
    ? readDuration(src, 'max-interval', '10s', { max: HOSTED_JOB_MAX_MS })
    : defaultMaxInterval(intervalMs);
  const requestTimeoutMs = readDuration(src, 'request-timeout', '10s', { max: FETCH_HEADERS_MAX_MS });
  const maxLatencyMs = given(src, 'max-latency') ? readDuration(src, 'max-latency', '') : undefined;
  if (maxLatencyMs !== undefined) notLongerThan(src, 'max-latency', maxLatencyMs, 'request-timeout', requestTimeoutMs);
  const failureThreshold = readInteger(src, 'failure-threshold', 0, { min: 0, max: MAX_STREAK });
  return {
    secrets,
    options: {
      url,
      expectStatus,
      expectJson,
      expectVersion,
      consecutiveSuccesses,
      intervalMs,
      maxIntervalMs,
      timeoutMs,
      requestTimeoutMs,
      maxLatencyMs,
      failureThreshold,
      headers,
    },
  };
}
