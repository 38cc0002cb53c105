// The one wrapper every action entry point runs in: turns known failures into a single clean
// error line (no stack), keeps unexpected ones debuggable, and splits main/post phases.
import * as core from '@actions/core';
import { InputError, UserFacingError, errorMessage } from '../../core/errors.js';
import { AbortedError } from '../../core/retry.js';

const POST_MARKER = 'rail-actions-main-ran';

/** True when this process is the `post:` step of an action whose main step ran in this job. */
export function isPostPhase(): boolean {
  return core.getState(POST_MARKER) === 'true';
}

export async function runAction(main: () => Promise<void>, post?: () => Promise<void>): Promise<void> {
  const phase = post && isPostPhase() ? post : main;
  if (phase === main && post) core.saveState(POST_MARKER, 'true');
  try {
    await phase();
  } catch (err) {
    if (err instanceof InputError || err instanceof UserFacingError || err instanceof AbortedError) {
      core.setFailed(err.message);
    } else {
      core.debug(err instanceof Error && err.stack ? err.stack : String(err));
      core.setFailed(`Unexpected error: ${errorMessage(err)}`);
    }
  }
}

/** Aborts when the runner cancels the job (SIGINT then SIGTERM), so waits stop promptly and post steps can act. */
export function cancellationSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      core.warning(`Received ${sig}: the job is being cancelled; stopping.`);
      controller.abort(new AbortedError(`cancelled by ${sig}`));
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}
