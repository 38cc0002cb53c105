// When the health check makes its next attempt. Three paces:
//   fast     — before the first healthy answer: 100 ms after the previous answer, growing to 250 ms, never slower
//              than `interval`. A new deployment's verdict then comes within ~¼ s of the service turning healthy
//              instead of up to a whole interval later.
//   interval — once a healthy answer has been seen: the confirmations of a streak are spaced exactly `interval`
//              apart (that spacing is the stability window consecutive-successes asks for), and failures after
//              having been healthy retry at `interval` (jittered down to half).
//   back-off — once the check has run QUICK_PHASE_MS (long boot, sleeping service), failed attempts back off from
//              `interval` to `max-interval`.
import { backoffDelay, type BackoffPolicy } from '../core/retry.js';

/**
 * How long failed attempts keep the quick paces (fast, or interval once healthy) before backing off. A new deployment
 * usually starts answering within seconds (a fresh Railway domain's 404s, a waking service's 502s).
 */
export const QUICK_PHASE_MS = 30_000;

/**
 * Fast-phase pace and its bound on load. Attempts never overlap, and each waits after the previous ANSWER, so a
 * service that answers errors instantly gets at most 6 requests in the first second (gaps of 100, 150, 225 ms: the
 * short first gaps catch a service that was nearly up), then at most 1000/250 = 4 a second, and at most ~125 before
 * the quick phase ends and the pace drops to `interval` and below. A slow or hanging service gets fewer (the next
 * request waits for the answer or the request-timeout). A 429 ends the fast phase for good (RFC 6585 §4: the client
 * sent too many requests).
 */
export const FAST_FIRST_DELAY_MS = 100;
export const FAST_MAX_DELAY_MS = 250;
const FAST_GROWTH = 1.5;

export interface PollScheduleOptions {
  intervalMs: number;
  maxIntervalMs: number;
  /** For the jitter of the interval/back-off paces (tests pass a fixed one). */
  random?: () => number;
}

/** The pace of one health check: feed it every attempt's outcome, it returns the delay before the next attempt. */
export class PollSchedule {
  private readonly backoff: BackoffPolicy;
  private everHealthy = false;
  private throttled = false;
  private fastFailures = 0;
  private failuresAfterQuickPhase = 0;

  constructor(private readonly opts: PollScheduleOptions) {
    this.backoff = {
      initialDelayMs: opts.intervalMs,
      maxDelayMs: Math.max(opts.intervalMs, opts.maxIntervalMs),
      factor: 2,
    };
  }

  /**
   * Delay (ms) after an attempt that ended `elapsedMs` after the check started. The caller still trims it to the
   * overall deadline.
   */
  next(outcome: { ok: boolean; status?: number }, elapsedMs: number): number {
    if (outcome.ok) {
      this.everHealthy = true;
      this.failuresAfterQuickPhase = 0;
      // Not jittered: the stability window should be what consecutive-successes × interval says.
      return this.opts.intervalMs;
    }
    if (outcome.status === 429) this.throttled = true;
    if (elapsedMs >= QUICK_PHASE_MS)
      return backoffDelay(++this.failuresAfterQuickPhase, this.backoff, this.opts.random);
    this.failuresAfterQuickPhase = 0;
    if (!this.everHealthy && !this.throttled) {
      const grown = FAST_FIRST_DELAY_MS * FAST_GROWTH ** this.fastFailures++;
      return Math.round(Math.min(grown, FAST_MAX_DELAY_MS, this.opts.intervalMs));
    }
    return backoffDelay(1, this.backoff, this.opts.random);
  }
}
