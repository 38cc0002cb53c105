// Compact, readable trace for assertion messages: `expect(results(trace), formatTrace(trace)).toEqual(…)`.
import type { JobTrace, RunTrace, StepTrace } from './types.js';

const MAX = 60;
const short = (v: string) => {
  const one = v.replace(/\s+/g, ' ');
  return JSON.stringify(one.length > MAX ? `${one.slice(0, MAX - 1)}…` : one);
};
const kv = (o: Record<string, string>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(' ');

function stepLine(s: StepTrace): string {
  const mark = s.outcome === s.conclusion ? s.outcome : `${s.outcome}→${s.conclusion}`;
  return `${s.key}:${mark}${s.cancelledHere ? '(cancel here)' : ''}`;
}

function jobLines(trace: RunTrace, job: JobTrace, depth: number): string[] {
  const pad = '  '.repeat(depth + 1);
  let head = `${pad}${job.path} ${job.result.toUpperCase()}`;
  if (job.cancellation) head += ` [cancel: ${job.cancellation}]`;
  if (job.environment) {
    const e = job.environment;
    head += ` env=${JSON.stringify(e.name)}`;
    if (e.waitedForApproval) head += `(reviewers: ${e.decision ?? 'approve'})`;
    if (!e.deployment) head += '(deployment: false)';
    if (e.url !== undefined) head += ` url=${short(e.url)}`;
  }
  if (job.result === 'skipped') head += `  if: ${job.if}`;
  const lines = [head];
  if (job.steps.length > 0) lines.push(`${pad}  steps: ${job.steps.map(stepLine).join(', ')}`);
  if (Object.keys(job.outputs).length > 0) lines.push(`${pad}  outputs: ${kv(job.outputs)}`);
  for (const w of job.warnings) lines.push(`${pad}  warning: ${w}`);
  if (job.call) {
    lines.push(`${pad}  calls ${job.call.path}`);
    for (const wave of job.call.order)
      for (const p of wave) lines.push(...jobLines(trace, trace.jobs[p] as JobTrace, depth + 1));
  }
  return lines;
}

/** One block per run: result, waves, every job with its result, steps, environment and outputs. */
export function formatTrace(trace: RunTrace): string {
  const lines = [
    `run ${trace.result.toUpperCase()}${Object.keys(trace.outputs).length ? `  outputs: ${kv(trace.outputs)}` : ''}`,
  ];
  trace.order.forEach((wave, i) => {
    lines.push(`wave ${i}: ${wave.join(', ')}`);
    for (const id of wave) lines.push(...jobLines(trace, trace.jobs[id] as JobTrace, 0));
  });
  return lines.join('\n');
}
