// migrate action: applies the pending migrations safely (or runs the project's migrator under the same lock),
// optionally rehearsing them on a copy of the production schema first.
// First: lets the bundled libpg-query find its .wasm (see the module).
import '../migrations/analyze/wasm-dirname.js';
import path from 'node:path';
import * as core from '@actions/core';
import { formatDuration } from '../core/duration.js';
import { InputError, UserFacingError } from '../core/errors.js';
import { redactUrl, scrubSecrets } from '../core/redact.js';
import { NoMigrationsError, parseToolName } from '../migrations/detect.js';
import { planHash as hashOf } from '../migrations/hash.js';
import { type LoadedMigrations, loadMigrations } from '../migrations/pending.js';
import { type AppliedFile, type ApplyResult, MigrationFailedError, type PartialFile, applyMigrations } from '../migrations/runner/apply.js';
import { type RehearsalResult, rehearseMigrations } from '../migrations/runner/rehearse.js';
import { choiceInput, databaseUrlInput, durationInput, integerInput, stringInput } from './lib/inputs.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

// Crash consistency (src/migrations/runner/progress.ts): a file that is not one transaction runs in statement groups
// whose progress is committed with each group (rail_actions.migration_progress); its history row is written last.
// Cancelled (SIGINT/SIGTERM) the step cancels the running statement, rolls back the open transaction and reports which
// groups are committed (partially-applied output, summary); killed (SIGKILL) it leaves the same consistent state. Either
// way the next run resumes the file at its first unfinished group, dropping INVALID indexes of an interrupted build.

async function main(): Promise<void> {
  // Both URLs are masked (and validated) before anything can print them, including input errors.
  const production = databaseUrlInput('database-url', { required: true })!;
  const rehearsalTarget = databaseUrlInput('rehearsal-database-url');
  const secrets = [...production.secrets, ...(rehearsalTarget?.secrets ?? [])];
  const scrub = (t: string) => scrubSecrets(t, secrets);
  const databaseUrl = production.url;
  const rehearsalDatabaseUrl = rehearsalTarget?.url;
  const mode = choiceInput('mode', ['apply', 'rehearse'] as const, 'apply');
  if (mode === 'rehearse' && !rehearsalDatabaseUrl) {
    throw new InputError('rehearsal-database-url', 'is required with mode: rehearse (an empty database on a server with the same extensions, e.g. the CI pgvector service)');
  }
  const tool = parseToolName(core.getInput('migrations-tool'), 'migrations-tool');
  const dir = stringInput('migrations-dir', { fallback: '' }).trim();
  const command = stringInput('migrations-command', { fallback: '' }).trim() || undefined;
  const planHashInput = stringInput('plan-hash', { fallback: '' }).trim().toLowerCase() || undefined;
  if (planHashInput && !/^[0-9a-f]{64}$/.test(planHashInput)) {
    throw new InputError('plan-hash', `expected the 64-character hex plan-hash output of migrate-gate, got '${planHashInput}'`);
  }
  const lockTimeoutMs = durationInput('lock-timeout', '5s');
  const statementTimeoutMs = durationInput('statement-timeout', '15m', { allowZero: true });
  const lockWaitMs = durationInput('lock-wait', '10m', { allowZero: true });
  const maxRetries = integerInput('max-retries', 5, { min: 0, max: 100 });
  const cwd = path.resolve(process.env.GITHUB_WORKSPACE || process.cwd(), stringInput('working-directory', { fallback: '.' }));

  // Files and tool are validated before any connection is opened.
  let loaded: LoadedMigrations;
  try {
    loaded = await loadMigrations({ dir, tool, cwd });
  } catch (err) {
    if (!(err instanceof NoMigrationsError)) throw err;
    await reportNoMigrations(err, { cwd, ...(command ? { command } : {}), ...(planHashInput ? { planHash: planHashInput } : {}) });
    return;
  }
  const signal = cancellationSignal();
  const common = {
    databaseUrl,
    cwd,
    lockTimeoutMs,
    statementTimeoutMs,
    lockWaitMs,
    maxRetries,
    loaded,
    signal,
    ...(planHashInput ? { planHash: planHashInput } : {}),
    ...(command ? { command } : {}),
    commandInput: 'migrations-command',
    log: (m: string) => core.info(scrub(m)),
    warn: (m: string) => core.warning(scrub(m)),
  };
  core.info(
    `Target ${redactUrl(databaseUrl)}; lock_timeout ${formatDuration(lockTimeoutMs)}, statement_timeout ${statementTimeoutMs ? formatDuration(statementTimeoutMs) : 'off'}, up to ${maxRetries} retr${maxRetries === 1 ? 'y' : 'ies'} on lock timeouts`,
  );

  let rehearsal: RehearsalResult | undefined;
  if (rehearsalDatabaseUrl) {
    rehearsal = await core.group('Rehearsal on a copy of the production schema', () =>
      rehearseMigrations({ ...common, rehearsalDatabaseUrl, log: common.log, warn: common.warn }),
    );
    core.setOutput('rehearsal', rehearsal.ok ? 'passed' : 'failed');
    if (!rehearsal.ok) {
      core.setOutput('applied', '[]');
      core.setOutput('applied-count', '0');
      await writeSummary({ rehearsal, applied: [], failure: `Rehearsal failed: ${scrub(rehearsal.error ?? '')}`, scrub });
      throw new UserFacingError(`Rehearsal failed — production was not touched: ${scrub(rehearsal.error ?? 'unknown error')}`);
    }
    const n = rehearsal.result?.applied.length ?? 0;
    core.info(`Rehearsal passed: ${n} migration(s) applied cleanly to a copy of the production schema in ${formatDuration(rehearsal.ms)}`);
    if (mode === 'rehearse') {
      core.setOutput('applied', '[]');
      core.setOutput('applied-count', '0');
      core.setOutput('pending-count', String(rehearsal.result?.report.pending.length ?? 0));
      core.setOutput('plan-hash', rehearsal.result?.planHash ?? '');
      await writeSummary({ rehearsal, applied: [], ...(rehearsal.result ? { result: rehearsal.result } : {}), rehearseOnly: true, scrub });
      return;
    }
  } else {
    core.setOutput('rehearsal', 'skipped');
  }

  let result: ApplyResult;
  try {
    result = await applyMigrations({ ...common, label: 'production database' });
  } catch (err) {
    if (err instanceof InputError) throw err;
    const applied = err instanceof MigrationFailedError ? err.applied : [];
    const partial = err instanceof MigrationFailedError ? err.partial : undefined;
    setAppliedOutputs(applied, partial);
    const message = scrub(err instanceof Error ? err.message : String(err));
    await writeSummary({ ...(rehearsal ? { rehearsal } : {}), applied, ...(partial ? { partial } : {}), failure: message, scrub });
    const location = err instanceof MigrationFailedError ? err.location : undefined;
    if (location) {
      // The one error, placed on the migration file/line in the pull request and run views.
      const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
      const file = path.relative(workspace, path.resolve(cwd, location.file)).split(path.sep).join('/');
      core.error(message, { title: 'Migration failed', file, ...(location.line ? { startLine: location.line } : {}) });
      process.exitCode = 1;
      return;
    }
    throw new UserFacingError(message);
  }
  setAppliedOutputs(result.applied);
  core.setOutput('pending-count', String(result.report.pending.length));
  core.setOutput('plan-hash', result.planHash);
  await writeSummary({ ...(rehearsal ? { rehearsal } : {}), result, applied: result.applied, scrub });
  core.info(result.applied.length ? `Applied ${result.applied.length} migration(s).` : 'No pending migrations.');
}

/**
 * An app without migrations: success with nothing applied, said plainly, and no database connection. Two cases stay
 * errors: an own migrator command (it may keep its migrations where detection does not look — running nothing would
 * hide that), and a plan-hash approved for a non-empty set (what was approved is gone).
 */
async function reportNoMigrations(err: NoMigrationsError, o: { cwd: string; command?: string; planHash?: string }): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const where = path.relative(workspace, path.resolve(o.cwd, err.where)).split(path.sep).join('/') || '.';
  const found = `No migrations found in '${where}' (looked for: ${err.lookedFor})`;
  if (o.command) {
    throw new InputError('migrations-dir', `${found}, but migrations-command is set: point migrations-dir (and migrations-tool) at the migrations your command applies`);
  }
  const emptyHash = hashOf([]);
  if (o.planHash && o.planHash !== emptyHash) {
    throw new UserFacingError(`Refusing to migrate: the approved plan-hash ${o.planHash} names pending migrations, but none exist any more (${found})`);
  }
  core.notice(
    `${found} — nothing to migrate; set apply-migrations: false (ci.yml) or migrate: false (deploy.yml) to skip this step` +
      (err.dir ? '' : ', or migrations-dir (and migrations-tool) if the app keeps them elsewhere'),
    { title: 'migrate: no migrations' },
  );
  core.setOutput('rehearsal', 'skipped');
  setAppliedOutputs([]);
  core.setOutput('pending-count', '0');
  core.setOutput('plan-hash', emptyHash);
  core.summary.addHeading('Migrate: ✅ No migrations — nothing to migrate', 2);
  core.summary.addRaw(`<p>${escapeHtml(found)}.</p>`, true);
  await core.summary.write();
}

function setAppliedOutputs(applied: AppliedFile[], partial?: PartialFile): void {
  core.setOutput(
    'applied',
    JSON.stringify(applied.map((a) => ({ file: a.file, statements: a.statements, ms: a.ms, ...(a.resumedAtGroup ? { resumedAtGroup: a.resumedAtGroup } : {}) }))),
  );
  core.setOutput('applied-count', String(applied.length));
  // Set only when a file is left partly applied (unset reads as '' in expressions).
  if (partial) {
    core.setOutput(
      'partially-applied',
      JSON.stringify({ file: partial.file, groups: partial.groups, committedGroups: partial.committedGroups, resumeAtGroup: partial.resumeAt }),
    );
  }
}

/** "2 (resumed at group 2)": statements this run executed, and where it took over from an interrupted run. */
function statementsCell(a: AppliedFile): string {
  if (a.statements === null) return '—';
  return a.resumedAtGroup ? `${a.statements} (resumed at group ${a.resumedAtGroup})` : String(a.statements);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function writeSummary(s: {
  rehearsal?: RehearsalResult;
  result?: ApplyResult;
  applied: AppliedFile[];
  partial?: PartialFile;
  failure?: string;
  rehearseOnly?: boolean;
  scrub: (t: string) => string;
}): Promise<void> {
  // "nothing applied" only when it is true: a partly applied file has committed statements.
  const partly = s.partial
    ? `${s.partial.file} partly applied (${s.partial.committedGroups.length} of ${s.partial.groups} statement groups committed; the next run resumes ${s.partial.resumeAt > s.partial.groups ? 'by recording it' : `at group ${s.partial.resumeAt}`})`
    : undefined;
  const title = s.failure
    ? `❌ Migration failed${s.applied.length ? ` after applying ${s.applied.length} file(s)${partly ? `; ${partly}` : ''}` : partly ? ` — ${partly}` : ' — nothing applied'}`
    : s.rehearseOnly
      ? `✅ Rehearsal passed (${s.rehearsal?.result?.applied.length ?? 0} migration(s), production untouched)`
      : s.applied.length
        ? `✅ Applied ${s.applied.length} migration(s)`
        : '✅ Nothing to apply';
  core.summary.addHeading(`Migrate: ${title}`, 2);
  if (s.result) {
    core.summary.addTable([
      [
        { data: 'Tool', header: true },
        { data: 'Directory', header: true },
        { data: 'Mode', header: true },
        { data: 'Pending before', header: true },
        { data: 'Plan hash', header: true },
        { data: 'Lock wait', header: true },
      ],
      [
        s.result.tool,
        `<code>${escapeHtml(path.relative(process.cwd(), s.result.dir) || '.')}</code>`,
        s.result.mode === 'command' ? 'project command' : 'rail-actions runner',
        String(s.result.report.pending.length),
        `<code>${s.result.planHash.slice(0, 16)}…</code>`,
        formatDuration(s.result.lockWaitMs),
      ],
    ]);
  }
  if (s.rehearsal) {
    core.summary.addRaw(
      `<p><strong>Rehearsal</strong> on a copy of the production schema: ${s.rehearsal.ok ? `passed (${s.rehearsal.result?.applied.length ?? 0} file(s))` : 'FAILED'} in ${formatDuration(s.rehearsal.ms)}.</p>`,
      true,
    );
  }
  const rehearsed = s.rehearsal?.result?.applied ?? [];
  if (rehearsed.length) {
    core.summary.addTable([
      [
        { data: 'Rehearsed file', header: true },
        { data: 'Statements', header: true },
        { data: 'Time', header: true },
      ],
      ...rehearsed.map((a) => [`<code>${escapeHtml(a.file)}</code>`, statementsCell(a), a.ms === null ? '—' : formatDuration(a.ms)]),
    ]);
  }
  if (s.applied.length) {
    core.summary.addTable([
      [
        { data: 'Applied file', header: true },
        { data: 'Statements', header: true },
        { data: 'Time', header: true },
      ],
      ...s.applied.map((a) => [`<code>${escapeHtml(a.file)}</code>`, statementsCell(a), a.ms === null ? '—' : formatDuration(a.ms)]),
    ]);
  }
  if (s.failure) core.summary.addRaw(`<pre>${escapeHtml(s.scrub(s.failure))}</pre>`, true);
  await core.summary.write();
}

void runAction(main);
