// migrate action: applies the pending migrations safely (or runs the project's migrator under the same lock),
// optionally rehearsing them on a copy of the production schema first. The flow and its decisions are runMigrate's
// (src/migrations/use-cases.ts), shared with `rail-actions migrate`; this entry wires inputs → use case → outputs,
// summary and annotations.
// First: lets the bundled libpg-query find its .wasm (see the module).
import '../migrations/analyze/wasm-dirname.js';
import path from 'node:path';
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import { escapeHtml } from '../core/text.js';
import type { BackupSummary } from '../backup/store.js';
import { backupLines, backupSummaryHtml } from '../backup/report.js';
import type { AppliedFile, PartialFile } from '../migrations/runner/apply.js';
import { readMigrateSpec } from '../migrations/spec.js';
import { renderMigrateSummary } from '../migrations/summary.js';
import { runMigrate, type NoMigrations } from '../migrations/use-cases.js';
import { coreSource } from './lib/inputs.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

// Crash consistency (src/migrations/runner/progress.ts): a file that is not one transaction runs in statement groups
// whose progress is committed with each group (rail_actions.migration_progress); its history row is written last.
// Cancelled (SIGINT/SIGTERM) the step cancels the running statement, rolls back the open transaction and reports which
// groups are committed (partially-applied output, summary); killed (SIGKILL) it leaves the same consistent state. Either
// way the next run resumes the file at its first unfinished group, dropping INVALID indexes of an interrupted build.

export async function main(): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  // Every URL is masked (and validated) before anything can print it, including input errors.
  const spec = readMigrateSpec(coreSource, { base: workspace });
  const { scrub } = spec;
  const signal = cancellationSignal();
  const run = await runMigrate(spec, {
    log: (m) => core.info(m),
    warn: (m) => core.warning(m),
    group: (title, fn) => core.group(title, fn),
    signal,
    rehearsed: (r) => core.setOutput('rehearsal', r ? (r.ok ? 'passed' : 'failed') : 'skipped'),
  });

  if (run.kind === 'no-migrations') return reportNoMigrations(run.none, run.planHash);
  if (run.kind === 'rehearsal-failed') {
    const { rehearsal } = run;
    core.setOutput('applied', '[]');
    core.setOutput('applied-count', '0');
    await writeSummary({ rehearsal, applied: [], failure: `Rehearsal failed: ${scrub(rehearsal.error ?? '')}`, scrub });
    throw new UserFacingError(
      `Rehearsal failed — production was not touched: ${scrub(rehearsal.error ?? 'unknown error')}`,
    );
  }
  if (run.kind === 'rehearsed') {
    const { rehearsal } = run;
    core.setOutput('applied', '[]');
    core.setOutput('applied-count', '0');
    core.setOutput('pending-count', String(rehearsal.result?.report.pending.length ?? 0));
    core.setOutput('plan-hash', rehearsal.result?.planHash ?? '');
    await writeSummary({
      rehearsal,
      applied: [],
      ...(rehearsal.result ? { result: rehearsal.result } : {}),
      rehearseOnly: true,
      scrub,
    });
    return;
  }
  const rehearsal = run.rehearsal ? { rehearsal: run.rehearsal } : {};
  if (run.kind === 'failed') {
    setAppliedOutputs(run.applied, run.partial);
    await writeSummary({
      ...rehearsal,
      applied: run.applied,
      ...(run.partial ? { partial: run.partial } : {}),
      failure: run.message,
      scrub,
    });
    // Statement groups that committed before the failure committed their backups with them.
    await reportBackup(run.backup, scrub);
    if (run.location) {
      // The one error, placed on the migration file/line in the pull request and run views.
      const file = path.relative(workspace, path.resolve(spec.cwd, run.location.file)).split(path.sep).join('/');
      core.error(run.message, {
        title: 'Migration failed',
        file,
        ...(run.location.line ? { startLine: run.location.line } : {}),
      });
      process.exitCode = 1;
      return;
    }
    throw new UserFacingError(run.message);
  }
  const { result } = run;
  setAppliedOutputs(result.applied);
  core.setOutput('pending-count', String(result.report.pending.length));
  core.setOutput('plan-hash', result.planHash);
  await writeSummary({ ...rehearsal, result, applied: result.applied, scrub });
  await reportBackup(run.backup, scrub);
  core.info(result.applied.length ? `Applied ${result.applied.length} migration(s).` : 'No pending migrations.');
}

/** An app without migrations: success with nothing applied, said plainly (runMigrate opened no connection). */
async function reportNoMigrations(none: NoMigrations, emptyHash: string): Promise<void> {
  core.notice(
    `${none.found} — nothing to migrate; set apply-migrations: false (ci.yml) or migrate: false (deploy.yml) to skip this step` +
      (none.searched ? ', or migrations-dir (and migrations-tool) if the app keeps them elsewhere' : ''),
    { title: 'migrate: no migrations' },
  );
  core.setOutput('rehearsal', 'skipped');
  setAppliedOutputs([]);
  core.setOutput('pending-count', '0');
  core.setOutput('plan-hash', emptyHash);
  core.summary.addHeading('Migrate: ✅ No migrations — nothing to migrate', 2);
  core.summary.addRaw(`<p>${escapeHtml(none.found)}.</p>`, true);
  await core.summary.write();
}

/** backup-id / backup-size outputs and the summary's backup section, as the database's manifest records it. */
async function reportBackup(taken: BackupSummary | undefined, scrub: (t: string) => string): Promise<void> {
  core.setOutput('backup-id', taken?.id ?? '');
  core.setOutput('backup-size', taken ? String(taken.bytes) : '0');
  if (!taken) return;
  for (const line of backupLines(taken)) core.info(scrub(line));
  core.summary.addRaw(backupSummaryHtml(taken), true);
  await core.summary.write();
}

function setAppliedOutputs(applied: AppliedFile[], partial?: PartialFile): void {
  core.setOutput(
    'applied',
    JSON.stringify(
      applied.map((a) => ({
        file: a.file,
        statements: a.statements,
        ms: a.ms,
        ...(a.resumedAtGroup ? { resumedAtGroup: a.resumedAtGroup } : {}),
      })),
    ),
  );
  core.setOutput('applied-count', String(applied.length));
  // Set only when a file is left partly applied (unset reads as '' in expressions).
  if (partial) {
    core.setOutput(
      'partially-applied',
      JSON.stringify({
        file: partial.file,
        groups: partial.groups,
        committedGroups: partial.committedGroups,
        resumeAtGroup: partial.resumeAt,
      }),
    );
  }
}

async function writeSummary(s: Parameters<typeof renderMigrateSummary>[1]): Promise<void> {
  renderMigrateSummary(core.summary, s);
  await core.summary.write();
}

export async function run(): Promise<void> {
  await runAction(main);
}

await run();
