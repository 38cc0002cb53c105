// The one rule for requests with an effect (deploy, upload, rollback, redeploy, cancel, settings): a request whose
// answer was lost may still have taken effect, so it is never sent again before Railway's state has been read.
// One 502 on serviceInstanceDeployV2 must not create two deployments, nor a 502 on deploymentRollback ten.
import { InputError, errorMessage } from '../core/errors.js';
import { AbortedError, sleep } from '../core/retry.js';
import type { RailwayClient } from './client.js';
import { RailwayApiError, RailwayUnconfirmedError, mayHaveLanded } from './errors.js';

export interface EffectSpec<T> {
  /** What is attempted, for logs and errors ("serviceInstanceDeployV2 of api at abc1234"). */
  what: string;
  /** Sends the request once (client.request already repeats what cannot have landed: 429, refused connections). */
  send: () => Promise<T>;
  /** Reads Railway's state: the effect of this intent if it landed (e.g. a deployment created since it was sent). */
  find: () => Promise<T | undefined>;
  /**
   * How long `find` keeps looking before "not there" counts: Railway may not list a fresh deployment at once (the
   * CLI waits 500 ms after /up because the backend "may not have fully registered the deployment yet", railwayapp/cli
   * src/commands/up.rs, PR #743). Default 5 s.
   */
  settleMs?: number;
  /** Sends at most this many times, each after proof the previous one did not land. Default 2. */
  maxSends?: number;
  /** Pause between reads while looking. Default 1 s. */
  readIntervalMs?: number;
  log?: (msg: string) => void;
  signal?: AbortSignal;
}

export interface EffectResult<T> {
  value: T;
  /** Requests sent for this intent (1 unless an earlier one was proven not to have landed). */
  sends: number;
  /** True when the value was found by reading state after an answer was lost. */
  reconciled: boolean;
}

type Lookup<T> = { found: T } | { absent: true } | { unknown: unknown };

/** Errors a read cannot get past by waiting: the token, the input, the job. */
function fatalRead(err: unknown): boolean {
  return (
    err instanceof AbortedError || err instanceof InputError || (err instanceof RailwayApiError && err.isAuthError)
  );
}

/**
 * Sends `spec.send` once; when the failure leaves open whether it took effect (mayHaveLanded), reads state with
 * `spec.find` until the effect shows up (returned as if answered) or `settleMs` passed with a successful read saying
 * it is not there — only then is the request sent again (at most `maxSends` in all). When state cannot be read until
 * the client's deadline, throws RailwayUnconfirmedError: the caller must report "unknown", not retry.
 */
export async function applyOnce<T>(client: RailwayClient, spec: EffectSpec<T>): Promise<EffectResult<T>> {
  const maxSends = spec.maxSends ?? 2;
  const log = spec.log ?? (() => undefined);
  for (let sends = 1; ; sends++) {
    try {
      return { value: await spec.send(), sends, reconciled: false };
    } catch (err) {
      if (!mayHaveLanded(err)) throw err;
      log(
        `${spec.what}: the answer was lost (${client.scrub(errorMessage(err))}); reading Railway's state to see whether it took effect`,
      );
      const lookup = await lookFor(client, spec);
      if ('found' in lookup) {
        log(`${spec.what}: it did take effect; continuing with what Railway reports`);
        return { value: lookup.found, sends, reconciled: true };
      }
      if ('unknown' in lookup) {
        const why =
          lookup.unknown === undefined
            ? 'no read succeeded before the deadline'
            : client.scrub(errorMessage(lookup.unknown));
        throw new RailwayUnconfirmedError(
          spec.what,
          `${spec.what}: Railway's answer was lost (${client.scrub(errorMessage(err))}) and its state could not be read (${why}); whether it took effect is unknown — check the service in Railway before retrying`,
          { cause: err },
        );
      }
      // Proven not to have taken effect: the failure stands as it is (nothing changed on Railway).
      if (sends >= maxSends || (client.deadline !== undefined && Date.now() >= client.deadline)) throw err;
      log(`${spec.what}: it did not take effect; sending it again`);
    }
  }
}

async function lookFor<T>(client: RailwayClient, spec: EffectSpec<T>): Promise<Lookup<T>> {
  const settleMs = spec.settleMs ?? 5000;
  const started = Date.now();
  // Without a deadline on the client, an outage still must not make this wait forever.
  const until = client.deadline ?? started + Math.max(settleMs * 6, 60_000);
  let lastErr: unknown;
  let interval = spec.readIntervalMs ?? 1000;
  for (;;) {
    try {
      const value = await spec.find();
      if (value !== undefined) return { found: value };
      if (Date.now() - started >= settleMs) return { absent: true };
    } catch (err) {
      if (fatalRead(err)) throw err;
      lastErr = err;
    }
    const left = until - Date.now();
    if (left <= 0) return { unknown: lastErr };
    await sleep(Math.min(interval, left), spec.signal ?? client.signal);
    interval = Math.min(interval * 1.5, 3000);
  }
}
