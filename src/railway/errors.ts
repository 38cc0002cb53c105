import { UserFacingError } from '../core/errors.js';

/** Railway answered, but not with data: HTTP 4xx/5xx/429, or HTTP 200 carrying `errors[]`. */
export class RailwayApiError extends UserFacingError {
  readonly httpStatus: number;
  readonly operationName: string | null;
  /** GraphQL error messages (empty for plain HTTP failures). */
  readonly graphqlMessages: string[];
  /** Server-imposed wait before retrying (Retry-After / rate-limit reset), ms. */
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;

  constructor(
    message: string,
    opts: {
      httpStatus: number;
      operationName: string | null;
      graphqlMessages?: string[];
      retryAfterMs?: number;
      retryable: boolean;
    },
  ) {
    super(message);
    this.name = 'RailwayApiError';
    this.httpStatus = opts.httpStatus;
    this.operationName = opts.operationName;
    this.graphqlMessages = opts.graphqlMessages ?? [];
    this.retryAfterMs = opts.retryAfterMs;
    this.retryable = opts.retryable;
  }

  /** True for "token not accepted" answers (the CLI's mapping, railwayapp/cli src/client.rs). */
  get isAuthError(): boolean {
    if (this.httpStatus === 401 || this.httpStatus === 403) return true;
    return this.graphqlMessages.some((m) =>
      /project token not found|not authori[sz]ed|unauthori[sz]ed|invalid token|authentication/i.test(m),
    );
  }
}

/** The network failed (connection refused/reset, DNS, client-side timeout) — no answer at all. */
export class RailwayNetworkError extends UserFacingError {
  /** True when the request may have reached the server (timeout after sending): unsafe to repeat a mutation. */
  readonly maybeDelivered: boolean;
  constructor(message: string, maybeDelivered: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RailwayNetworkError';
    this.maybeDelivered = maybeDelivered;
  }
}

/**
 * Whether a failed request with an effect (a mutation, an upload) may nevertheless have taken effect: an edge 5xx
 * (the backend may have finished before the proxy gave up) or a connection that failed after the request was sent
 * (reset, timeout, answer cut off). Such a request is never repeated blindly: Railway's state is read first
 * (effects.ts). Refused connections, 429 and GraphQL refusals (HTTP 200 + errors[]) did not take effect.
 */
export function mayHaveLanded(err: unknown): boolean {
  if (err instanceof RailwayNetworkError) return err.maybeDelivered;
  if (err instanceof RailwayApiError) return err.httpStatus >= 500;
  return false;
}

/** A mutation's answer was lost and Railway's state could not be read to find out whether it took effect. */
export class RailwayUnconfirmedError extends UserFacingError {
  /** What was attempted, e.g. "serviceInstanceDeployV2 of api at abc1234". */
  readonly intent: string;
  constructor(intent: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RailwayUnconfirmedError';
    this.intent = intent;
  }
}
