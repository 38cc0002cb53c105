// The ONE Railway client: GraphQL over HTTP with the shared retry policy, subscriptions over
// graphql-transport-ws, token-kind detection, and rate-limit bookkeeping. No @actions/* imports.
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { InputError, errorMessage } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { AbortedError, retry, sleep, type BackoffPolicy, type RetryOptions } from '../core/retry.js';
import { httpsUrl } from '../core/url.js';
import { RailwayApiError, RailwayNetworkError, mayHaveLanded } from './errors.js';
import { PROJECT_TOKEN_INFO, TOKEN_WORKSPACES } from './operations.js';

export const DEFAULT_API_URL = 'https://backboard.railway.com/graphql/v2';

export type TokenKind = 'project' | 'account';

export interface RailwayClientOptions {
  token: string;
  apiUrl?: string;
  /** Aborts every request and wait (job cancellation). */
  signal?: AbortSignal;
  /** Epoch ms: no retry is started after it, so the caller's timeout bounds the whole client. */
  deadline?: number;
  log?: (msg: string) => void;
  fetch?: typeof fetch;
  /** false disables subscriptions (polling only). Default true. */
  webSocket?: boolean;
  /** Skip detection when the caller knows the kind. Default 'auto'. */
  tokenKind?: TokenKind | 'auto';
  /**
   * Per-request timeout. Default 90 s, the official CLI's (DEFAULT_HTTP_TIMEOUT_SECS in railwayapp/cli
   * src/consts.rs, applied in src/client.rs): a mutation cut off earlier may still land. A hung read is retried like
   * a network error; a hung mutation is reconciled by reading state (effects.ts), never re-sent blindly.
   */
  requestTimeoutMs?: number;
  /** Attempts per request when no deadline bounds it. Default 6. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** How long the first request (token probe) keeps retrying an unreachable host. Default 60 s. */
  connectTimeoutMs?: number;
}

export interface ProjectTokenScope {
  projectId: string;
  projectName: string;
  environmentId: string;
  environmentName: string;
}

/** The `/up` answer (railwayapp/cli src/controllers/upload.rs UpResponse). */
export interface UploadResponse {
  deploymentId: string;
  /** The app's address: `deploymentDomain` (what `railway up` prints as the service URL, cli src/commands/up.rs). */
  serviceUrl?: string;
  /** The response's `url`: a link to Railway's DASHBOARD, never the app. */
  dashboardUrl?: string;
  logsUrl?: string;
}

/** A workspace a Bearer token can operate on (`apiToken { workspaces }`). */
export interface TokenWorkspace {
  id: string;
  name: string;
}

export interface RateLimitState {
  limit?: number;
  remaining?: number;
  /** Epoch ms when the window resets, when the server said so. */
  resetAt?: number;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message?: string; extensions?: Record<string, unknown> }>;
}

const RAILWAY_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 15_000, factor: 2 };

/** The official CLI's HTTP timeout (railwayapp/cli src/consts.rs DEFAULT_HTTP_TIMEOUT_SECS = 90). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 90_000;

/** Validates an api-url value; InputError names the input. */
export function parseApiUrl(raw: string | undefined, inputName = 'api-url'): URL {
  const text = (raw ?? '').trim() || DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(
      inputName,
      `expected an http(s) URL of Railway's GraphQL endpoint (default ${DEFAULT_API_URL}), got '${text}'`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(
      inputName,
      `expected an http(s) URL of Railway's GraphQL endpoint, got protocol '${url.protocol}'`,
    );
  }
  return url;
}

/** Connection errors that happen before any byte of the request is sent. */
function neverSent(code: string | undefined): boolean {
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** X-RateLimit-Reset may be epoch seconds or seconds-from-now; both are seen in the wild. */
function parseReset(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) return undefined;
  if (n > 1e12) return n; // epoch ms
  if (n > 1e9) return n * 1000; // epoch s
  return now + n * 1000;
}

export class RailwayClient {
  readonly apiUrl: URL;
  /** Origin of the API host: `/project/:p/environment/:e/up` lives here. */
  readonly origin: string;
  readonly tokenKind: TokenKind;
  /** Project and environment the project token is scoped to (project tokens only). */
  readonly projectScope: ProjectTokenScope | undefined;
  /** Set when the token was tried as a project token and refused (kept for the classic-mistake message). */
  readonly projectTokenRefusal: string | undefined;
  /** HTTP requests sent plus subscriptions opened. */
  requestCount = 0;
  readonly rateLimit: RateLimitState = {};
  readonly webSocketEnabled: boolean;

  private readonly token: string;
  private readonly opts: RailwayClientOptions;
  private readonly fetchImpl: typeof fetch;
  private wsClient: WsClient | undefined;
  private workspaces: TokenWorkspace[] | undefined;

  private constructor(
    opts: RailwayClientOptions,
    apiUrl: URL,
    kind: TokenKind,
    scope?: ProjectTokenScope,
    refusal?: string,
  ) {
    this.opts = opts;
    this.token = opts.token;
    this.apiUrl = apiUrl;
    this.origin = apiUrl.origin;
    this.tokenKind = kind;
    this.projectScope = scope;
    this.projectTokenRefusal = refusal;
    this.fetchImpl = opts.fetch ?? fetch;
    this.webSocketEnabled = opts.webSocket !== false;
  }

  /**
   * Validates the token and URL, then finds out what kind of token this is by asking `projectToken` with the
   * Project-Access-Token header (docs.railway.com integrations/api.md); if Railway refuses, tries it as an account/workspace token with
   * `apiToken { workspaces }`, which every Bearer kind can read (TOKEN_WORKSPACES).
   */
  static async connect(opts: RailwayClientOptions): Promise<RailwayClient> {
    if (!opts.token || opts.token.trim() === '') {
      throw new InputError(
        'railway-token',
        'is required but was empty (is the RAILWAY token secret set for this repository/environment?)',
      );
    }
    if (/\s/.test(opts.token.trim()) || opts.token.trim() !== opts.token) {
      throw new InputError('railway-token', 'contains whitespace or a line break; paste the token value alone');
    }
    const apiUrl = parseApiUrl(opts.apiUrl);
    const wanted = opts.tokenKind ?? 'auto';
    if (wanted === 'account') return new RailwayClient(opts, apiUrl, 'account');

    // The probe gets a shorter budget: a wrong host or a dead proxy should fail in a minute, not at the deadline.
    const probeDeadline = Math.min(opts.deadline ?? Infinity, Date.now() + (opts.connectTimeoutMs ?? 60_000));
    const asProject = new RailwayClient({ ...opts, deadline: probeDeadline }, apiUrl, 'project');
    try {
      const data = await asProject.request<{
        projectToken: {
          projectId: string;
          environmentId: string;
          project: { name: string };
          environment: { name: string };
        };
      }>(PROJECT_TOKEN_INFO, {}, 'ProjectTokenInfo');
      const t = data.projectToken;
      const scope = {
        projectId: t.projectId,
        projectName: t.project.name,
        environmentId: t.environmentId,
        environmentName: t.environment.name,
      };
      const client = new RailwayClient(opts, apiUrl, 'project', scope);
      client.requestCount = asProject.requestCount;
      Object.assign(client.rateLimit, asProject.rateLimit);
      return client;
    } catch (err) {
      if (err instanceof RailwayNetworkError) {
        throw new RailwayNetworkError(
          `${err.message}; gave up after ${Math.round((opts.connectTimeoutMs ?? 60_000) / 1000)}s — check the 'api-url' input (${apiUrl.origin}) or Railway's status`,
          false,
          { cause: err },
        );
      }
      if (!(err instanceof RailwayApiError) || !err.isAuthError) throw err;
      if (wanted === 'project') {
        throw new InputError(
          'railway-token',
          `Railway did not accept it as a project token (${err.graphqlMessages.join('; ') || `HTTP ${err.httpStatus}`}). ${CLASSIC_MISTAKE}`,
        );
      }
      const refusal = err.graphqlMessages.join('; ') || `HTTP ${err.httpStatus}`;
      const asAccount = new RailwayClient({ ...opts, deadline: probeDeadline }, apiUrl, 'account', undefined, refusal);
      asAccount.requestCount = asProject.requestCount;
      let workspaces: TokenWorkspace[];
      try {
        workspaces = await asAccount.fetchTokenWorkspaces();
      } catch (err2) {
        if (err2 instanceof RailwayApiError && err2.isAuthError) {
          throw new InputError(
            'railway-token',
            `Railway accepted it neither as a project token (${refusal}) nor as an account/workspace token (${err2.graphqlMessages.join('; ') || `HTTP ${err2.httpStatus}`}). Check that the secret holds a current token.`,
          );
        }
        throw err2;
      }
      const client = new RailwayClient(opts, apiUrl, 'account', undefined, refusal);
      client.requestCount = asAccount.requestCount;
      client.workspaces = workspaces;
      Object.assign(client.rateLimit, asAccount.rateLimit);
      return client;
    }
  }

  private async fetchTokenWorkspaces(): Promise<TokenWorkspace[]> {
    const data = await this.request<{ apiToken: { workspaces: TokenWorkspace[] } }>(
      TOKEN_WORKSPACES,
      {},
      'TokenWorkspaces',
    );
    return data.apiToken.workspaces.map((w) => ({ id: w.id, name: w.name }));
  }

  /** The workspaces an account/workspace token operates on (from the connect probe, else read once). */
  async tokenWorkspaces(): Promise<TokenWorkspace[]> {
    if (this.tokenKind === 'project') return [];
    this.workspaces ??= await this.fetchTokenWorkspaces();
    return this.workspaces;
  }

  private log(msg: string): void {
    this.opts.log?.(this.scrub(msg));
  }

  /** Removes the token from any text that might reach a log. */
  scrub(text: string): string {
    return scrubSecrets(text, [this.token]);
  }

  authHeaders(): Record<string, string> {
    return this.tokenKind === 'project'
      ? { 'Project-Access-Token': this.token }
      : { Authorization: `Bearer ${this.token}` };
  }

  get deadline(): number | undefined {
    return this.opts.deadline;
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  /** Runs one GraphQL operation with retries; HTTP 200 with `errors[]` is an error (RailwayApiError). */
  async request<T>(query: string, variables: object = {}, operationName?: string): Promise<T> {
    const opName = operationName ?? /(?:query|mutation|subscription)\s+(\w+)/.exec(query)?.[1] ?? null;
    const isMutation = /^\s*mutation\b/.test(query);
    return retry(
      (attempt) => this.requestOnce<T>(query, variables, opName, attempt),
      this.retryOptions(`Railway ${opName ?? 'request'}`, isMutation),
    );
  }

  /**
   * The client's use of the shared retry policy: Railway's retryable answers (429 with Retry-After, 5xx) and network
   * errors, bounded by the caller's deadline. A request with an effect (a mutation, an upload) is repeated here only
   * when it cannot have taken effect (refused connection, 429); after an edge 5xx or a connection lost after sending
   * it is NOT repeated — the caller reads Railway's state first (effects.ts), since one 502 must not deploy twice.
   */
  private retryOptions(what: string, hasEffect: boolean): RetryOptions {
    return {
      deadline: this.opts.deadline,
      maxAttempts: this.opts.deadline === undefined ? (this.opts.maxAttempts ?? 6) : undefined,
      signal: this.opts.signal,
      policy: this.opts.backoff ?? RAILWAY_BACKOFF,
      classify: (err) => {
        if (hasEffect && mayHaveLanded(err)) return { retry: false };
        if (err instanceof RailwayApiError) return { retry: err.retryable, delayMs: err.retryAfterMs };
        if (err instanceof RailwayNetworkError) return { retry: true };
        return { retry: false };
      },
      onRetry: ({ err, attempt, delayMs }) =>
        this.log(`${what} failed (${errorMessage(err)}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)}s`),
    };
  }

  /** Waits out an exhausted rate-limit window before sending, bounded by the deadline. */
  private async respectRateLimit(): Promise<void> {
    const { remaining, resetAt } = this.rateLimit;
    if (remaining === undefined || remaining > 0 || resetAt === undefined) return;
    const wait = resetAt - Date.now();
    if (wait <= 0) return;
    if (this.opts.deadline !== undefined && Date.now() + wait > this.opts.deadline) {
      throw new RailwayApiError(
        `Railway's API rate limit is exhausted until ${new Date(resetAt).toISOString()}, after this step's deadline`,
        {
          httpStatus: 429,
          operationName: null,
          retryable: false,
        },
      );
    }
    this.log(
      `Railway rate limit exhausted (X-RateLimit-Remaining: 0); waiting ${(wait / 1000).toFixed(1)}s for the window to reset`,
    );
    await sleep(wait, this.opts.signal);
  }

  private async requestOnce<T>(query: string, variables: object, opName: string | null, _attempt: number): Promise<T> {
    if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
    await this.respectRateLimit();
    const timeoutMs = this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
    this.requestCount++;
    let res: Response;
    try {
      res = await this.fetchImpl(this.apiUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...this.authHeaders() },
        body: JSON.stringify({ query, variables, operationName: opName ?? undefined }),
        signal,
      });
    } catch (err) {
      if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
      if (timeout.aborted) {
        throw new RailwayNetworkError(
          `no answer from Railway within ${timeoutMs / 1000}s (${opName ?? 'request'})`,
          true,
          { cause: err },
        );
      }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? errorMessage(err);
      // Refused connections and failed lookups never reached the server; anything else might have.
      throw new RailwayNetworkError(
        this.scrub(`cannot reach Railway at ${this.origin} (${detail})`),
        !neverSent(cause?.code),
        { cause: err },
      );
    }
    const now = Date.now();
    this.recordRateLimit(res.headers, now);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
      throw new RailwayNetworkError(`Railway's answer was cut off (${errorMessage(err)})`, true, { cause: err });
    }
    if (res.status === 429) {
      const retryAfterMs =
        parseRetryAfter(res.headers.get('retry-after'), now) ??
        (this.rateLimit.resetAt ? this.rateLimit.resetAt - now : undefined);
      // Retry-After is the server's word on when to come back; it overrides the window's reset time.
      if (retryAfterMs !== undefined) this.rateLimit.resetAt = now + retryAfterMs;
      throw new RailwayApiError(
        `Railway rate limit hit (HTTP 429${retryAfterMs !== undefined ? `, Retry-After ${Math.ceil(retryAfterMs / 1000)}s` : ''})`,
        {
          httpStatus: 429,
          operationName: opName,
          retryAfterMs,
          retryable: true,
        },
      );
    }
    let body: GraphQLResponse<T> | undefined;
    try {
      body = JSON.parse(text) as GraphQLResponse<T>;
    } catch {
      body = undefined;
    }
    const messages = (body?.errors ?? []).map((e) => this.scrub(String(e.message ?? 'unknown error')));
    if (res.status >= 500) {
      throw new RailwayApiError(
        `Railway answered HTTP ${res.status} to ${opName ?? 'a request'}${messages.length ? `: ${messages.join('; ')}` : ''}`,
        {
          httpStatus: res.status,
          operationName: opName,
          graphqlMessages: messages,
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now),
          retryable: true,
        },
      );
    }
    if (res.status >= 400 || !body) {
      const snippet = this.scrub(text.slice(0, 300).replace(/\s+/g, ' '));
      throw new RailwayApiError(
        `Railway answered HTTP ${res.status} to ${opName ?? 'a request'}: ${messages.length ? messages.join('; ') : snippet || 'no body'}`,
        { httpStatus: res.status, operationName: opName, graphqlMessages: messages, retryable: false },
      );
    }
    if (messages.length > 0) {
      // HTTP 200 with errors[] is a failure (a classic automation bug is to treat it as success).
      const rateLimited = messages.some((m) => /rate limit/i.test(m));
      throw new RailwayApiError(`Railway refused ${opName ?? 'the request'}: ${messages.join('; ')}`, {
        httpStatus: res.status,
        operationName: opName,
        graphqlMessages: messages,
        retryable: rateLimited,
      });
    }
    if (body.data === undefined || body.data === null) {
      throw new RailwayApiError(`Railway answered ${opName ?? 'a request'} without data`, {
        httpStatus: res.status,
        operationName: opName,
        retryable: false,
      });
    }
    return body.data;
  }

  /**
   * POSTs a gzip tarball to `/project/:p/environment/:e/up?serviceId=…` (railwayapp/cli src/controllers/upload.rs) and returns the new
   * deployment id. Repeated only when it cannot have landed (429, refused connection); a 5xx, reset or timeout may
   * have created the deployment, so it throws and triggerDeployment reconciles (effects.ts).
   */
  async uploadTarball(
    scope: { projectId: string; environmentId: string; serviceId: string },
    body: Buffer,
    message?: string,
  ): Promise<UploadResponse> {
    const url = new URL(
      `/project/${encodeURIComponent(scope.projectId)}/environment/${encodeURIComponent(scope.environmentId)}/up`,
      this.origin,
    );
    url.searchParams.set('serviceId', scope.serviceId);
    if (message) url.searchParams.set('message', message);
    return retry(
      async () => {
        if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
        const timeout = AbortSignal.timeout(
          Math.max(this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, 120_000),
        );
        const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
        this.requestCount++;
        let res: Response;
        try {
          res = await this.fetchImpl(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/gzip', ...this.authHeaders() },
            body: new Uint8Array(body),
            signal,
          });
        } catch (err) {
          if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
          const cause = (err as { cause?: { code?: string } }).cause;
          throw new RailwayNetworkError(
            `upload to ${this.origin} failed (${cause?.code ?? errorMessage(err)})`,
            timeout.aborted || !neverSent(cause?.code),
            { cause: err },
          );
        }
        const now = Date.now();
        this.recordRateLimit(res.headers, now);
        const text = await res.text().catch(() => '');
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = {};
        }
        const said =
          typeof json.message === 'string'
            ? json.message
            : typeof json.error === 'string'
              ? json.error
              : text.slice(0, 200);
        const serverMessage = this.scrub(said.replace(/\s+/g, ' ').trim());
        if (res.ok && typeof json.deploymentId === 'string') {
          const out: UploadResponse = { deploymentId: json.deploymentId };
          // Like `railway up`: the app's URL is deploymentDomain (https:// added unless present); `url` is the dashboard.
          const serviceUrl = typeof json.deploymentDomain === 'string' ? httpsUrl(json.deploymentDomain) : undefined;
          if (serviceUrl) out.serviceUrl = serviceUrl;
          if (typeof json.url === 'string') out.dashboardUrl = json.url;
          if (typeof json.logsUrl === 'string') out.logsUrl = json.logsUrl;
          return out;
        }
        const sizeMb = (body.length / 1024 / 1024).toFixed(1);
        const explain =
          res.status === 413
            ? `the ${sizeMb} MB tarball is too large for Railway's /up endpoint; exclude build output and assets with .railwayignore`
            : res.status === 403
              ? `Railway refused the upload${serverMessage ? ` (${serverMessage})` : ''}; an Enterprise guardrail ('Restrict deployments to approved sources') blocks uploads — deploy with source: commit instead`
              : res.ok
                ? 'the answer had no deploymentId'
                : serverMessage || 'no details';
        throw new RailwayApiError(`upload of ${sizeMb} MB to Railway failed with HTTP ${res.status}: ${explain}`, {
          httpStatus: res.status,
          operationName: 'up',
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now),
          retryable: res.status === 429 || res.status >= 500,
        });
      },
      this.retryOptions('upload', true),
    );
  }

  private recordRateLimit(headers: Headers, now: number): void {
    const limit = headers.get('x-ratelimit-limit');
    const remaining = headers.get('x-ratelimit-remaining');
    const reset = parseReset(headers.get('x-ratelimit-reset'), now);
    if (limit !== null && Number.isFinite(Number(limit))) this.rateLimit.limit = Number(limit);
    if (remaining !== null && Number.isFinite(Number(remaining))) {
      const before = this.rateLimit.remaining;
      this.rateLimit.remaining = Number(remaining);
      if (this.rateLimit.remaining <= 10 && (before === undefined || before > 10)) {
        this.log(
          `Railway rate limit nearly exhausted: ${this.rateLimit.remaining} request(s) left in this window; polling slows down`,
        );
      }
    }
    if (reset !== undefined) this.rateLimit.resetAt = reset;
  }

  /**
   * Opens a graphql-transport-ws subscription (same auth header on the upgrade, 10 s handshake). The sink's
   * `error` fires when the socket drops or is refused — callers fall back to polling then.
   */
  subscribe<T>(
    query: string,
    variables: object,
    sink: { next: (data: T) => void; error: (err: Error) => void; complete: () => void },
  ): () => void {
    if (!this.webSocketEnabled) {
      queueMicrotask(() => sink.error(new Error('WebSocket subscriptions are disabled')));
      return () => undefined;
    }
    this.requestCount++;
    const ws = this.webSocketClient();
    let done = false;
    const unsubscribe = ws.subscribe<T>(
      { query, variables: variables as Record<string, unknown> },
      {
        next: (value) => {
          if (done) return;
          if (value.errors?.length) {
            done = true;
            sink.error(new Error(this.scrub(value.errors.map((e) => e.message).join('; '))));
            return;
          }
          if (value.data) sink.next(value.data);
        },
        error: (err) => {
          if (done) return;
          done = true;
          sink.error(new Error(this.scrub(describeWsError(err))));
        },
        complete: () => {
          if (done) return;
          done = true;
          sink.complete();
        },
      },
    );
    return () => {
      done = true;
      unsubscribe();
    };
  }

  private webSocketClient(): WsClient {
    if (this.wsClient) return this.wsClient;
    const url = new URL(this.apiUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const headers = this.authHeaders();
    class AuthenticatedWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { headers, handshakeTimeout: 10_000 });
      }
    }
    this.wsClient = createClient({
      url: url.toString(),
      webSocketImpl: AuthenticatedWebSocket,
      retryAttempts: 0, // a drop ends the subscription; the waiter switches to polling
      lazy: true,
      lazyCloseTimeout: 0,
      connectionAckWaitTimeout: 10_000,
      keepAlive: 15_000,
    });
    return this.wsClient;
  }

  /**
   * The same token and endpoint (no new token probe) with another deadline and cancellation signal: after the job was
   * cancelled or the step's timeout passed, the state Railway was left in must still be read and a build cancelled,
   * which the original client (aborted, or past its deadline) can no longer do. Polling only: no WebSocket.
   */
  derive(opts: { deadline?: number; signal?: AbortSignal }): RailwayClient {
    const { signal: _signal, deadline: _deadline, ...rest } = this.opts;
    const next: RailwayClientOptions = { ...rest, webSocket: false };
    if (opts.deadline !== undefined) next.deadline = opts.deadline;
    if (opts.signal) next.signal = opts.signal;
    const copy = new RailwayClient(next, this.apiUrl, this.tokenKind, this.projectScope, this.projectTokenRefusal);
    copy.workspaces = this.workspaces;
    Object.assign(copy.rateLimit, this.rateLimit);
    return copy;
  }

  /** Closes the WebSocket (if any) so the process can exit. */
  async close(): Promise<void> {
    const ws = this.wsClient;
    this.wsClient = undefined;
    if (ws) await ws.dispose();
  }
}

function describeWsError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (Array.isArray(err)) return err.map((e: { message?: string }) => e.message ?? 'unknown error').join('; ');
  const close = err as { code?: number; reason?: string; type?: string };
  if (close && typeof close.code === 'number')
    return `WebSocket closed (code ${close.code}${close.reason ? `: ${close.reason}` : ''})`;
  if (close?.type === 'error') return 'WebSocket connection failed';
  return String(err);
}

export const CLASSIC_MISTAKE =
  'An account or workspace token (railway.com/account/tokens) is not a project token: either create a project token ' +
  '(Project → Settings → Tokens, scoped to the target environment) or keep the account token and also set the ' +
  "'project' and 'environment' inputs.";
