// The one wrapper every action entry point runs in: turns known failures into a single clean
// error line (no stack), keeps unexpected ones debuggable, splits main/post phases, and makes every exit path set
// the documented outputs.
import { readFileSync } from 'node:fs';
import * as core from '@actions/core';
import { InputError, UserFacingError, errorMessage } from '../../core/errors.js';
import { scrubRegistered } from '../../core/redact.js';
import { AbortedError } from '../../core/retry.js';

const POST_MARKER = 'rail-actions-main-ran';

/** True when this process is the `post:` step of an action whose main step ran in this job. */
export function isPostPhase(): boolean {
  return core.getState(POST_MARKER) === 'true';
}

/** What the failure outputs of an entry may depend on. */
export interface FailureContext {
  /** The message the step fails with (secrets scrubbed). */
  message: string;
  /** True when the failure was a bad input (InputError): nothing was sent anywhere. */
  inputError: boolean;
  /**
   * True when the main step saved post-step state before failing — the Railway actions save it right before their
   * first change (saveReleaseState), so false means nothing was changed.
   */
  stateSaved: boolean;
}

export interface RunOptions {
  /** The `post:` phase, when action.yml has one. */
  post?: () => Promise<void>;
  /**
   * The documented outputs a failed main step must still set (e.g. result=failed, healthy=false), so a workflow that
   * reads them (`if: steps.x.outputs.result == 'failed'`, continue-on-error) never sees an empty value. Set only for
   * outputs main did not set itself before it failed.
   */
  failureOutputs?: Record<string, string> | ((failure: FailureContext) => Record<string, string>);
}

export async function runAction(
  main: () => Promise<void>,
  postOrOptions?: (() => Promise<void>) | RunOptions,
  maybeOptions: RunOptions = {},
): Promise<void> {
  const opts: RunOptions =
    typeof postOrOptions === 'function' ? { ...maybeOptions, post: postOrOptions } : (postOrOptions ?? maybeOptions);
  const post = opts.post;
  const phase = post && isPostPhase() ? post : main;
  if (phase === main && post) core.saveState(POST_MARKER, 'true');
  try {
    await phase();
  } catch (err) {
    let message: string;
    if (err instanceof InputError || err instanceof UserFacingError || err instanceof AbortedError) {
      message = scrubRegistered(err.message);
    } else {
      core.debug(scrubRegistered(err instanceof Error && err.stack ? err.stack : String(err)));
      message = `Unexpected error: ${scrubRegistered(errorMessage(err))}`;
    }
    if (phase === main && opts.failureOutputs)
      setFailureOutputs(opts.failureOutputs, {
        message,
        inputError: err instanceof InputError,
        stateSaved: stateSaved(),
      });
    core.setFailed(message);
  }
}

function setFailureOutputs(spec: NonNullable<RunOptions['failureOutputs']>, failure: FailureContext): void {
  try {
    const outputs = typeof spec === 'function' ? spec(failure) : spec;
    const already = fileKeys('GITHUB_OUTPUT');
    for (const [name, value] of Object.entries(outputs)) if (!already.has(name)) core.setOutput(name, value);
  } catch (err) {
    core.warning(`Could not set the failure outputs: ${scrubRegistered(errorMessage(err))}`);
  }
}

function stateSaved(): boolean {
  return [...fileKeys('GITHUB_STATE')].some((k) => k !== POST_MARKER);
}

/**
 * The names already written to a file command (GITHUB_OUTPUT, GITHUB_STATE): `name=value` lines and `name<<DELIM`
 * heredocs, the two forms the runner reads (actions/runner src/Runner.Worker/FileCommandManager.cs). Without the file
 * (outside a runner) nothing counts as written.
 */
function fileKeys(variable: string): Set<string> {
  const file = process.env[variable];
  const keys = new Set<string>();
  if (!file) return keys;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return keys;
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq > 0 && (heredoc < 0 || eq < heredoc)) keys.add(line.slice(0, eq));
    else if (heredoc > 0) {
      keys.add(line.slice(0, heredoc));
      const delimiter = line.slice(heredoc + 2);
      while (i + 1 < lines.length && lines[i + 1] !== delimiter) i++;
      i++;
    }
  }
  return keys;
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
