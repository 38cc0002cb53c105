// Railway API emulator: backboard's /graphql/v2 (HTTP + graphql-transport-ws) and the /up tarball upload, on
// loopback, with a timer-driven deployment state machine and real app processes. See README.md next to this file.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  execute,
  getOperationAST,
  graphql,
  parse,
  subscribe,
  validate,
  type DocumentNode,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { Parser as TarParser } from 'tar';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate, buildEmulatorSchema, type RequestContext } from './graphql.js';
import {
  railwaySchemaAvailable,
  validateAgainstRailwaySchema,
  validateDocumentAgainstRailwaySchema,
} from './schema-check.js';
import type { AppBehaviour, EmulatedDeployment, RequestRecord, ScriptedDeployment, UploadRecord } from './types.js';
import { World } from './world.js';

export type {
  AppBehaviour,
  DeploymentStatus,
  EmulatedDeployment,
  EmulatedEvent,
  EmulatedLog,
  RequestRecord,
  ScriptedDeployment,
  ScriptedOutcome,
  UploadRecord,
} from './types.js';
export {
  validateAgainstRailwaySchema,
  validateAgainstEmulatorSchema,
  railwaySchemaAvailable,
  railwaySchemaPath,
} from './schema-check.js';

export interface EmulatorOptions {
  /** Duration of BUILDING (default 200 ms). */
  buildMs?: number;
  /** Minimum duration of DEPLOYING (default 100 ms); it also lasts until the app process answers. */
  deployMs?: number;
  /** Granularity of the state machine: INITIALIZING/QUEUED/REMOVING last one or two ticks (default 50 ms). */
  tickMs?: number;
  /** Also validate every operation against Railway's real schema (../shared/railway/schema.json) when present
   *  (default true; a no-op when the file is absent). */
  schemaCheck?: boolean;
  /** Start a real app process per deployment (default true). */
  apps?: boolean;
  /** X-RateLimit-Limit per hour (default 1000, Railway's Hobby plan). Exhausting it answers 429. */
  rateLimitPerHour?: number;
  /** /up bodies larger than this are refused with 413 (default 50 MB). */
  uploadLimitBytes?: number;
  /** How long Railway's healthcheck retries for services with a healthcheckPath (default 10 s). */
  healthcheckTimeoutMs?: number;
  /** How long an app process may take to open its port before the deployment FAILS (default 60 s). */
  startTimeoutMs?: number;
  /** A new deployment stays unreadable ("Deployment not found", absent from lists) this long after creation
   *  (default 0): the registration race railwayapp/cli up.rs works around with a 500 ms wait (PR #743). */
  registrationLagMs?: number;
  /** Whether the ACTIVE deployment reports canRollback: true (default true). Unknown on the real platform: run both. */
  activeCanRollback?: boolean;
}

export interface AddServiceOptions {
  name: string;
  id?: string;
  source?: { repo?: string; image?: string };
  /** Behaviour of the service's app processes; false = no process (deployments succeed without one). */
  app?: AppBehaviour | false;
  /** Whether the service has a Railway domain (default true). */
  domain?: boolean;
  /** Railway's deploy-time healthcheck: SUCCESS only after this path answers 200. */
  healthcheckPath?: string;
  healthcheckTimeoutSeconds?: number;
  /** GitHub autodeploy (default: on for a repo source, docs deployments/github-autodeploys.md). */
  autoDeploy?: boolean;
  /** Trigger branch of autodeploys (default 'main'). */
  branch?: string;
  /** Watch paths (gitignore-style, from `/`): a push touching none of them is SKIPPED. */
  watchPatterns?: string[];
  /** Root Directory: builds (uploads too) run inside it; an upload without files there FAILS. */
  rootDirectory?: string;
  /** A custom domain, unverified unless `verified` (then it is listed with status.verified). */
  customDomain?: { domain: string; verified?: boolean };
}

/** How a fault picks requests: an operation name, a root field (e.g. 'serviceInstanceDeployV2'), or 'up' for /up. */
export type OperationMatch = string;

export interface RailwayEmulator {
  /** http://127.0.0.1:<port>/graphql/v2 — the `api-url`; WebSocket subscriptions use the same path. */
  url: string;
  /** http://127.0.0.1:<port> — /project/:p/environment/:e/up lives here. */
  origin: string;
  /** A workspace; the account token's user is a member unless `member: false`. */
  addWorkspace(w: { name: string; id?: string; member?: boolean }): { id: string; name: string };
  /** A project in a workspace, or a personal project of the account's user when workspaceId is absent. */
  addProject(p: { name: string; id?: string; workspaceId?: string }): { id: string; name: string };
  addEnvironment(projectId: string, e: { name: string; id?: string }): { id: string; name: string };
  addService(projectId: string, s: AddServiceOptions): { id: string; name: string };
  /** A project token scoped to one environment → send as Project-Access-Token. */
  projectToken(projectId: string, environmentId: string): string;
  /** An account token → send as Authorization: Bearer. */
  accountToken(): string;
  /** A workspace token (Bearer too): that workspace's projects only, no personal ones, `me` refused. */
  workspaceToken(workspaceId: string): string;
  /**
   * A push to a repo-connected service's repository: moves the branch head to `sha`; with autodeploy on (and the
   * trigger branch) Railway starts its OWN deployment of that commit after `delayMs`. With watch paths and
   * `changedFiles`, a push touching none of them ends SKIPPED. Resolves to that deployment's id, or null.
   */
  push(
    serviceId: string,
    sha: string,
    o?: {
      environmentId?: string;
      branch?: string;
      changedFiles?: string[];
      delayMs?: number;
      script?: ScriptedDeployment;
    },
  ): Promise<string | null>;
  /** Turns GitHub autodeploy on or off for a service. */
  setAutoDeploy(serviceId: string, enabled: boolean): void;
  /** Marks the service's custom domain verified (DNS checked) or not. */
  verifyCustomDomain(serviceId: string, verified?: boolean): void;
  /** Behaviour of the NEXT deployment(s) of a service (a queue; unscripted ones succeed). */
  scriptDeployment(serviceId: string, b: ScriptedDeployment): void;
  /** Stable public URL of the service: a loopback proxy to the ACTIVE deployment's process, 502 when none. */
  serviceUrl(serviceId: string, environmentId?: string): string;
  /** Changes the behaviour of a running deployment's app (e.g. turn unhealthy) without redeploying. */
  setAppBehaviour(deploymentId: string, b: AppBehaviour): void;
  /** Ends a deployment sitting in WAITING ("wait for CI"): proceed, or SKIPPED when proceed=false. */
  resolveWaiting(deploymentId: string, proceed: boolean): void;
  /** App Sleeping: the active deployment becomes SLEEPING; the next request to serviceUrl wakes it (and gets 502). */
  sleepService(serviceId: string, environmentId?: string): void;
  /** Sets the commit a deploy without commitSha builds (the branch head). */
  setHeadCommit(serviceId: string, sha: string): void;
  faults: {
    failNext(count: number, httpStatus?: number): void;
    rateLimitNext(count: number, retryAfterSeconds: number): void;
    hangNext(count: number): void;
    dropSockets(): void;
    disableWebSocket(disabled: boolean): void;
    /** Next N /up uploads → this status (default 503) with a non-JSON body. */
    failNextUpload(count: number, httpStatus?: number): void;
    /** Next N requests to serviceUrl(serviceId) answer `httpStatus` from the edge (default 404: a fresh domain). */
    serviceUrlAnswerNext(serviceId: string, count: number, httpStatus?: number): void;
    /** The next `count` (default 1) requests running `operation` fail WITHOUT taking effect: HTTP `httpStatus`
     *  (default 502, HTML body), with `graphqlError` HTTP 200 + errors[], or with `as: 'hang'` no answer at all (stuck
     *  before it reached Railway). */
    failOperation(
      operation: OperationMatch,
      o?: { count?: number; httpStatus?: number; graphqlError?: string; skip?: number; as?: 'http' | 'hang' },
    ): void;
    /** The next `count` (default 1) requests running `operation` TAKE EFFECT, then the answer is lost: the edge answers
     *  `httpStatus` (default 502, as 'http'), the connection is reset after the request was read ('reset'), or it is
     *  never answered ('hang'). `skip`: that many matching requests are answered normally first (e.g. the second
     *  serviceInstanceUpdate of a release, not the first). */
    loseAnswer(
      operation: OperationMatch,
      o?: { count?: number; as?: 'http' | 'reset' | 'hang'; httpStatus?: number; skip?: number },
    ): void;
    /** Once the next `operation` has taken effect (answered or its answer lost), every HTTP request (GraphQL, /up,
     *  WebSocket upgrades) gets `httpStatus` (default 503) for `durationMs` (default 2000), without taking effect. */
    outageAfter(operation: OperationMatch, o?: { durationMs?: number; httpStatus?: number }): void;
  };
  requests: RequestRecord[];
  uploads: UploadRecord[];
  deployment(id: string): EmulatedDeployment | undefined;
  deploymentsOf(serviceId: string): EmulatedDeployment[];
  activeDeployment(serviceId: string, environmentId?: string): EmulatedDeployment | undefined;
  /** Someone else deploys the service: starts a newer deployment (default outcome SUCCESS), returns its id. */
  supersede(serviceId: string, b?: ScriptedDeployment & { environmentId?: string }): string;
  /** canRollback=false on all non-active deployments (image retention expired). */
  expireImages(serviceId: string): void;
  /** An image service's image SETTING in an environment (what its next deploy pulls; serviceInstanceUpdate changes it). */
  imageSetting(serviceId: string, environmentId?: string): string | undefined;
  /** Variables of a service instance as the emulator stores them. */
  variables(serviceId: string, environmentId?: string): Record<string, string>;
  /** App processes currently running (for no-orphan checks). */
  runningApps(): Array<{ deploymentId: string; pid: number; port: number }>;
  /** Number of open WebSocket connections. */
  openSockets(): number;
  /** Resolves when the deployment reaches one of the statuses (or rejects after timeoutMs). */
  waitForStatus(deploymentId: string, statuses: string[] | string, timeoutMs?: number): Promise<EmulatedDeployment>;
  close(): Promise<void>;
}

const GRAPHQL_PATH = '/graphql/v2';

interface OperationFault {
  kind: 'fail' | 'lose' | 'outage';
  match: OperationMatch;
  remaining: number;
  httpStatus: number;
  graphqlError?: string;
  lostAs?: 'http' | 'reset' | 'hang';
  durationMs?: number;
  /** Matching requests still to let through before the fault applies (failOperation / loseAnswer `skip`). */
  skip?: number;
}

/** The names a fault can match a GraphQL request by: its operation name and the root fields it selects. */
function operationNames(doc: DocumentNode | null, operationName: string | null): Array<string | null> {
  const op = doc ? getOperationAST(doc, operationName ?? undefined) : null;
  const fields = (op?.selectionSet.selections ?? []).flatMap((sel) =>
    sel.kind === Kind.FIELD ? [sel.name.value] : [],
  );
  return [operationName, ...fields];
}
const UP_PATH = /^\/project\/([^/]+)\/environment\/([^/]+)\/up$/;

function headerRecord(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Auth headers of a WebSocket operation: the upgrade request's, overridden by the connection_init payload. */
function wsHeaders(
  req: http.IncomingMessage,
  connectionParams: Record<string, unknown> | undefined,
): Record<string, string> {
  const headers = headerRecord(req);
  for (const [k, v] of Object.entries(connectionParams ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  return headers;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

function listTarball(body: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const files: string[] = [];
    const parser = new TarParser({
      strict: true,
      onReadEntry: (entry) => {
        if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile')
          files.push(entry.path.replace(/^\.\//, ''));
        entry.resume();
      },
    });
    parser.on('error', reject);
    parser.on('warn', (_code: string, message: string | Error) =>
      reject(message instanceof Error ? message : new Error(message)),
    );
    parser.on('end', () => resolve(files));
    parser.end(body);
  });
}

export async function startRailwayEmulator(opts: EmulatorOptions = {}): Promise<RailwayEmulator> {
  const world = new World({
    buildMs: opts.buildMs ?? 200,
    deployMs: opts.deployMs ?? 100,
    tickMs: opts.tickMs ?? 50,
    apps: opts.apps ?? true,
    healthcheckTimeoutMs: opts.healthcheckTimeoutMs ?? 10_000,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    registrationLagMs: opts.registrationLagMs ?? 0,
    activeCanRollback: opts.activeCanRollback ?? true,
  });
  await world.listenerPool.fill();
  const schema = buildEmulatorSchema(world);
  const realSchemaCheck = (opts.schemaCheck ?? true) && railwaySchemaAvailable();
  const rateLimit = opts.rateLimitPerHour ?? 1000;
  const uploadLimit = opts.uploadLimitBytes ?? 50 * 1024 * 1024;
  const requests: RequestRecord[] = [];
  const uploads: UploadRecord[] = [];
  const hanging = new Set<http.ServerResponse>();
  const faults = {
    fail: [] as number[],
    rateLimited: [] as number[],
    hang: 0,
    wsDisabled: false,
    failUpload: [] as number[],
  };
  const operationFaults: OperationFault[] = [];
  let outage: { until: number; httpStatus: number } | null = null;
  const inOutage = (): number | null => (outage && Date.now() < outage.until ? outage.httpStatus : null);
  /** Takes the first pending fault of `kind` for a request running any of `names`. */
  const takeFault = (kind: OperationFault['kind'], names: Array<string | null>): OperationFault | undefined => {
    const fault = operationFaults.find((f) => f.kind === kind && f.remaining > 0 && names.includes(f.match));
    if (fault?.skip) {
      fault.skip -= 1;
      return undefined;
    }
    if (fault) fault.remaining -= 1;
    return fault;
  };
  /** After a request was answered: starts the outage an outageAfter fault scheduled for it. */
  const maybeStartOutage = (names: Array<string | null>): void => {
    const fault = takeFault('outage', names);
    if (fault) outage = { until: Date.now() + (fault.durationMs ?? 2000), httpStatus: fault.httpStatus };
  };
  /** Delivers (or loses) the answer of a request that took effect. Returns the HTTP status recorded (0 = none). */
  const answer = (res: http.ServerResponse, names: Array<string | null>, send: () => void): number => {
    const lost = takeFault('lose', names);
    maybeStartOutage(names);
    if (!lost) {
      send();
      return res.statusCode;
    }
    if (lost.lostAs === 'reset') {
      res.socket?.destroy();
      return 0;
    }
    if (lost.lostAs === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return 0;
    }
    serverError(res, lost.httpStatus);
    return lost.httpStatus;
  };
  let windowStart = Date.now();
  let used = 0;

  /** X-RateLimit-* on every response; returns the Retry-After seconds when the hourly budget is spent. */
  const rateHeaders = (res: http.ServerResponse, consume: boolean): number | null => {
    const now = Date.now();
    if (now - windowStart >= 3_600_000) {
      windowStart = now;
      used = 0;
    }
    if (consume) used += 1;
    const resetAt = Math.ceil((windowStart + 3_600_000) / 1000);
    res.setHeader('X-RateLimit-Limit', String(rateLimit));
    res.setHeader('X-RateLimit-Remaining', String(Math.max(0, rateLimit - used)));
    res.setHeader('X-RateLimit-Reset', String(resetAt));
    return used > rateLimit ? Math.max(1, resetAt - Math.floor(now / 1000)) : null;
  };

  const sendJson = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };

  const tooManyRequests = (res: http.ServerResponse, retryAfter: number): void => {
    res.setHeader('Retry-After', String(retryAfter));
    res.setHeader('X-RateLimit-Remaining', '0');
    sendJson(res, 429, { errors: [{ message: 'Rate limit exceeded. Please try again later.' }] });
  };

  const serverError = (res: http.ServerResponse, status: number): void => {
    // Railway's edge answers 5xx with an HTML page, not JSON: clients must not try to parse it.
    const body = `<html><head><title>${status} Error</title></head><body><h1>${status}</h1><p>upstream connect error or disconnect/reset before headers</p></body></html>`;
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const checkAgainstRailway = (doc: DocumentNode | null, query: string): string[] =>
    realSchemaCheck && doc ? validateAgainstRailwaySchema(query).map((m) => `Railway schema: ${m}`) : [];

  const handleGraphql = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const { body } = await readBody(req, 5 * 1024 * 1024);
    let payload: { query?: unknown; variables?: unknown; operationName?: unknown } = {};
    let badJson = false;
    try {
      payload = JSON.parse(body.toString('utf8')) as typeof payload;
    } catch {
      badJson = true;
    }
    const query = typeof payload.query === 'string' ? payload.query : '';
    const record: RequestRecord = {
      operationName: typeof payload.operationName === 'string' ? payload.operationName : null,
      query,
      variables: payload.variables ?? null,
      headers: headerRecord(req),
      transport: 'http',
      httpStatus: 0,
      at: Date.now(),
    };
    let doc: DocumentNode | null;
    try {
      doc = parse(query);
      if (!record.operationName) record.operationName = getOperationAST(doc, undefined)?.name?.value ?? null;
    } catch {
      doc = null;
    }
    requests.push(record);
    const finish = (status: number): void => {
      record.httpStatus = status;
    };

    if (faults.hang > 0) {
      faults.hang -= 1;
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const outageStatus = inOutage();
    if (outageStatus !== null) {
      serverError(res, outageStatus);
      return finish(outageStatus);
    }
    const retryAfter = faults.rateLimited.shift();
    const overBudget = rateHeaders(res, true);
    if (retryAfter !== undefined || overBudget !== null) {
      tooManyRequests(res, retryAfter ?? overBudget ?? 1);
      return finish(429);
    }
    const failStatus = faults.fail.shift();
    if (failStatus !== undefined) {
      serverError(res, failStatus);
      return finish(failStatus);
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { errors: [{ message: 'Only POST is supported' }] });
      return finish(405);
    }
    if (badJson || typeof payload.query !== 'string') {
      sendJson(res, 400, { errors: [{ message: 'Body must be JSON: {"query": string, "variables"?: object}' }] });
      return finish(400);
    }
    const railwayErrors = checkAgainstRailway(doc, query);
    if (railwayErrors.length > 0) {
      sendJson(res, 200, { errors: railwayErrors.map((message) => ({ message })), data: null });
      return finish(200);
    }
    if (doc && getOperationAST(doc, record.operationName ?? undefined)?.operation === OperationTypeNode.SUBSCRIPTION) {
      sendJson(res, 200, {
        errors: [{ message: 'Subscriptions are only served over WebSocket (graphql-transport-ws)' }],
        data: null,
      });
      return finish(200);
    }
    const names = operationNames(doc, record.operationName);
    const failed = takeFault('fail', names);
    if (failed) {
      if (failed.lostAs === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return finish(0);
      }
      if (failed.graphqlError !== undefined)
        sendJson(res, 200, { errors: [{ message: failed.graphqlError }], data: null });
      else serverError(res, failed.httpStatus);
      return finish(failed.graphqlError !== undefined ? 200 : failed.httpStatus);
    }
    const contextValue: RequestContext = authenticate(world, record.headers);
    const result = await graphql({
      schema,
      source: query,
      contextValue,
      variableValues: (payload.variables as Record<string, unknown> | null | undefined) ?? undefined,
      operationName: typeof payload.operationName === 'string' ? payload.operationName : undefined,
    });
    finish(answer(res, names, () => sendJson(res, 200, result)));
  };

  const handleUpload = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    projectId: string,
    environmentId: string,
    url: URL,
  ): Promise<void> => {
    const outageStatus = inOutage();
    if (outageStatus !== null) {
      req.resume();
      return serverError(res, outageStatus);
    }
    const overBudget = rateHeaders(res, true);
    if (overBudget !== null) return tooManyRequests(res, overBudget);
    if (req.method !== 'POST') return sendJson(res, 405, { message: 'Method not allowed' });
    const failStatus = faults.failUpload.shift() ?? takeFault('fail', ['up'])?.httpStatus;
    if (failStatus !== undefined) {
      req.resume();
      return serverError(res, failStatus);
    }
    const { body, tooLarge } = await readBody(req, uploadLimit);
    if (tooLarge) {
      res.writeHead(413, { 'content-type': 'text/html' });
      res.end(
        '<html><head><title>413 Request Entity Too Large</title></head><body>413 Request Entity Too Large</body></html>',
      );
      return;
    }
    const ctx = authenticate(world, headerRecord(req));
    if (!ctx.principal) return sendJson(res, 401, { message: ctx.authError || 'Not Authorized' });
    const env = world.environments.get(environmentId);
    if (!env || env.projectId !== projectId) return sendJson(res, 404, { message: 'Environment not found' });
    if (
      ctx.principal.kind === 'project' &&
      (ctx.principal.projectId !== projectId || ctx.principal.environmentId !== environmentId)
    ) {
      return sendJson(res, 403, { message: 'Not Authorized' });
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/gzip' && contentType !== 'application/x-gzip') {
      return sendJson(res, 400, { message: `Content-Type must be application/gzip, got ${contentType || 'none'}` });
    }
    if (body.length < 2 || body[0] !== 0x1f || body[1] !== 0x8b)
      return sendJson(res, 400, { message: 'Body is not a gzip-compressed tarball' });
    let files: string[];
    try {
      files = await listTarball(body);
    } catch (error) {
      return sendJson(res, 400, {
        message: `Invalid tarball: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    if (files.length === 0) return sendJson(res, 400, { message: 'The uploaded archive contains no files' });
    let serviceId = url.searchParams.get('serviceId') ?? '';
    if (serviceId === '') {
      // Backboard creates a service when none is given (what `railway up` relies on in an empty project).
      serviceId = world.addService(projectId, { name: `service-${world.servicesOf(projectId).length + 1}` }).id;
    }
    const service = world.services.get(serviceId);
    if (!service || service.projectId !== projectId)
      return sendJson(res, 400, { message: `Service ${serviceId} not found in project` });
    const message = url.searchParams.get('message');
    const d = world.createDeployment({
      serviceId,
      environmentId,
      kind: 'upload',
      uploadedFiles: files,
      meta: { uploadedFiles: files.length, ...(message ? { deployMessage: message } : {}) },
    });
    uploads.push({ projectId, environmentId, serviceId, files, bytes: body.length, deploymentId: d.id });
    // `url` is a dashboard link, not the app: the app's address is deploymentDomain (railwayapp/cli up.rs).
    const dashboard = `https://railway.com/project/${projectId}/service/${serviceId}?environmentId=${environmentId}`;
    answer(res, ['up'], () =>
      sendJson(res, 200, {
        deploymentId: d.id,
        url: dashboard,
        logsUrl: `${dashboard}&id=${d.id}`,
        deploymentDomain: world.domainOf(serviceId, environmentId) ?? '',
      }),
    );
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = async (): Promise<void> => {
      if (url.pathname === GRAPHQL_PATH) return handleGraphql(req, res);
      const up = UP_PATH.exec(url.pathname);
      if (up) return handleUpload(req, res, decodeURIComponent(up[1] ?? ''), decodeURIComponent(up[2] ?? ''), url);
      rateHeaders(res, false);
      sendJson(res, 404, { message: 'Not found' });
    };
    route().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: `emulator error: ${String(error)}` }] });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // parse/validate/execute/subscribe are passed in so graphql-ws runs them with the same `graphql` instance that
  // built the schema (a second copy of graphql, e.g. CJS vs ESM, would reject the schema as "from another realm").
  const wsServer = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      parse,
      execute,
      subscribe,
      validate: (s, document) => {
        const errors = validate(s, document);
        if (errors.length > 0 || !realSchemaCheck) return errors;
        return validateDocumentAgainstRailwaySchema(document).map(
          (e) => new GraphQLError(`Railway schema: ${e.message}`, { nodes: e.nodes }),
        );
      },
      context: (ctx) => authenticate(world, wsHeaders(ctx.extra.request, ctx.connectionParams)),
      onSubscribe: (ctx, _id, payload) => {
        let operationName = payload.operationName ?? null;
        try {
          operationName ??= getOperationAST(parse(payload.query), undefined)?.name?.value ?? null;
        } catch {
          // a syntax error is reported to the client by graphql-ws itself
        }
        requests.push({
          operationName,
          query: payload.query,
          variables: payload.variables ?? null,
          headers: wsHeaders(ctx.extra.request, ctx.connectionParams),
          transport: 'ws',
          httpStatus: 101,
          at: Date.now(),
        });
      },
    },
    wss,
    10_000,
  );

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (faults.wsDisabled || inOutage() !== null || url.pathname !== GRAPHQL_PATH) {
      const status = faults.wsDisabled || inOutage() !== null ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  let closed = false;

  const emulator: RailwayEmulator = {
    url: `${origin}${GRAPHQL_PATH}`,
    origin,
    addWorkspace: (w) => {
      const r = world.addWorkspace(w);
      return { id: r.id, name: r.name };
    },
    addProject: (p) => {
      const r = world.addProject(p);
      return { id: r.id, name: r.name };
    },
    addEnvironment: (projectId, e) => {
      const r = world.addEnvironment(projectId, e);
      return { id: r.id, name: r.name };
    },
    addService: (projectId, s) => {
      const r = world.addService(projectId, s);
      return { id: r.id, name: r.name };
    },
    projectToken: (projectId, environmentId) => world.projectToken(projectId, environmentId),
    accountToken: () => world.accountToken(),
    workspaceToken: (workspaceId) => world.workspaceToken(workspaceId),
    push: (serviceId, sha, o) => world.push(serviceId, sha, o),
    setAutoDeploy: (serviceId, enabled) => {
      world.requireService(serviceId).autoDeploy = enabled;
    },
    verifyCustomDomain: (serviceId, verified = true) => {
      const service = world.requireService(serviceId);
      if (!service.customDomain) throw new Error(`service ${serviceId} has no custom domain`);
      service.customDomain.verified = verified;
    },
    scriptDeployment: (serviceId, b) => world.scriptDeployment(serviceId, b),
    serviceUrl: (serviceId, environmentId) => world.serviceUrl(serviceId, environmentId),
    setAppBehaviour: (deploymentId, b) => world.setAppBehaviour(deploymentId, b),
    resolveWaiting: (deploymentId, proceed) => world.resolveWaiting(deploymentId, proceed),
    sleepService: (serviceId, environmentId) => {
      world.sleep(serviceId, environmentId);
    },
    setHeadCommit: (serviceId, sha) => {
      world.requireService(serviceId).headCommit = sha;
    },
    faults: {
      failNext: (count, httpStatus = 503) => {
        for (let i = 0; i < count; i++) faults.fail.push(httpStatus);
      },
      rateLimitNext: (count, retryAfterSeconds) => {
        for (let i = 0; i < count; i++) faults.rateLimited.push(retryAfterSeconds);
      },
      hangNext: (count) => {
        faults.hang += count;
      },
      dropSockets: () => {
        for (const socket of sockets) socket.terminate();
      },
      disableWebSocket: (disabled) => {
        faults.wsDisabled = disabled;
      },
      failNextUpload: (count, httpStatus = 503) => {
        for (let i = 0; i < count; i++) faults.failUpload.push(httpStatus);
      },
      serviceUrlAnswerNext: (serviceId, count, httpStatus = 404) =>
        world.proxyFor(serviceId).answerNext(count, httpStatus),
      failOperation: (operation, o = {}) => {
        operationFaults.push({
          kind: 'fail',
          match: operation,
          remaining: o.count ?? 1,
          httpStatus: o.httpStatus ?? 502,
          graphqlError: o.graphqlError,
          skip: o.skip ?? 0,
          ...(o.as === 'hang' ? { lostAs: 'hang' as const } : {}),
        });
      },
      loseAnswer: (operation, o = {}) => {
        operationFaults.push({
          kind: 'lose',
          match: operation,
          remaining: o.count ?? 1,
          httpStatus: o.httpStatus ?? 502,
          lostAs: o.as ?? 'http',
          skip: o.skip ?? 0,
        });
      },
      outageAfter: (operation, o = {}) => {
        operationFaults.push({
          kind: 'outage',
          match: operation,
          remaining: 1,
          httpStatus: o.httpStatus ?? 503,
          durationMs: o.durationMs ?? 2000,
        });
      },
    },
    requests,
    uploads,
    deployment: (id) => world.deployments.get(id),
    deploymentsOf: (serviceId) => world.deploymentsOf(serviceId),
    activeDeployment: (serviceId, environmentId) => world.activeDeployment(serviceId, environmentId),
    supersede: (serviceId, b = {}) => {
      const environmentId = b.environmentId ?? world.defaultEnvironment(serviceId);
      const service = world.requireService(serviceId);
      const latest = world.deploymentsOf(serviceId, environmentId)[0];
      const { environmentId: _ignored, ...script } = b;
      return world.createDeployment({
        serviceId,
        environmentId,
        kind: 'external',
        script,
        commitSha: service.source.image ? null : (latest?.commitSha ?? service.headCommit),
      }).id;
    },
    expireImages: (serviceId) => world.expireImages(serviceId),
    imageSetting: (serviceId, environmentId) => world.imageSettingOf(serviceId, environmentId),
    variables: (serviceId, environmentId) =>
      world.variablesFor(environmentId ?? world.defaultEnvironment(serviceId), serviceId),
    runningApps: () => world.runningApps(),
    openSockets: () => sockets.size,
    waitForStatus: (deploymentId, statuses, timeoutMs = 30_000) => {
      const wanted = new Set(Array.isArray(statuses) ? statuses : [statuses]);
      const d = world.requireDeployment(deploymentId);
      if (wanted.has(d.status)) return Promise.resolve(d);
      return new Promise((resolve, reject) => {
        const listener = (changed: EmulatedDeployment): void => {
          if (!wanted.has(changed.status)) return;
          cleanup();
          resolve(changed);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `deployment ${deploymentId} did not reach ${[...wanted].join('/')} within ${timeoutMs} ms (status ${d.status}; history ${d.history.map((h) => h.status).join(' → ')})`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          world.changes.off(`deployment:${deploymentId}`, listener);
        };
        world.changes.on(`deployment:${deploymentId}`, listener);
      });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.terminate();
      await wsServer.dispose();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await world.close();
    },
  };
  return emulator;
}
