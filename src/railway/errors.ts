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
    opts: { httpStatus: number; operationName: string | null; graphqlMessages?: string[]; retryAfterMs?: number; retryable: boolean },
  ) {
    super(message);
    this.name = 'RailwayApiError';
    this.httpStatus = opts.httpStatus;
    this.operationName = opts.operationName;
    this.graphqlMessages = opts.graphqlMessages ?? [];
    this.retryAfterMs = opts.retryAfterMs;
    this.retryable = opts.retryable;
  }

  /** True for "token not accepted" answers (CLI's mapping, reference §1). */
  get isAuthError(): boolean {
    if (this.httpStatus === 401 || this.httpStatus === 403) return true;
    return this.graphqlMessages.some((m) => /project token not found|not authori[sz]ed|unauthori[sz]ed|invalid token|authentication/i.test(m));
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
