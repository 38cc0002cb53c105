/**
 * The one retry/backoff policy: exponential backoff with full jitter, bounded by the caller's deadline.
 * Railway calls, health polls and database lock retries all go through here.
 */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2 };

/** Delay before retry number `attempt` (1-based): uniform in [cap/2, cap] so retries spread but never collapse to 0. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}

export class AbortedError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortedError';
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryDecision {
  retry: boolean;
  /** Server-imposed wait (Retry-After, rate-limit reset); used instead of the backoff when larger. */
  delayMs?: number;
}

export interface RetryOptions {
  /** Epoch ms after which no further attempt starts; the last error is rethrown. */
  deadline?: number;
  maxAttempts?: number;
  policy?: BackoffPolicy;
  signal?: AbortSignal;
  classify: (err: unknown, attempt: number) => RetryDecision;
  onRetry?: (info: { err: unknown; attempt: number; delayMs: number }) => void;
  random?: () => number;
  now?: () => number;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const now = opts.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const decision = opts.classify(err, attempt);
      if (!decision.retry || (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts)) throw err;
      let delayMs = Math.max(backoffDelay(attempt, opts.policy, opts.random), decision.delayMs ?? 0);
      if (opts.deadline !== undefined) {
        const left = opts.deadline - now();
        if (left <= 0 || delayMs > left) throw err;
        delayMs = Math.min(delayMs, left);
      }
      opts.onRetry?.({ err, attempt, delayMs });
      await sleep(delayMs, opts.signal);
    }
  }
}
