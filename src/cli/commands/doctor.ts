// `rail-actions doctor`: the read-only checks of the actions' check-only mode (src/release/preflight.ts) from a
// terminal — token, project, environment, each service, autodeploy, what serves and whether it can be rolled back to,
// domains — printed as confirmed / refuted / unknown with what to do. Sends no mutation.
import { InputError } from '../../core/errors.js';
import type { RailwayClient } from '../../railway/index.js';
import { failedConnectionReport, preflight, type CheckVerdict, type PreflightReport } from '../../release/preflight.js';
import { EXIT_FAILED, EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { jsonFlag } from '../options.js';
import { RAILWAY_OPTIONS, SERVICE_OPTION, connectRailway, serviceList } from '../railway.js';
import { table, type Palette } from '../ui.js';

const SOURCES = ['commit', 'upload', 'image'] as const;

function verdictText(v: CheckVerdict, c: Palette): string {
  return v === 'confirmed' ? c.green('confirmed') : v === 'refuted' ? c.red('refuted') : c.yellow('unknown');
}

export const doctorCommand: Command = {
  spec: {
    name: 'doctor',
    summary:
      'Check, read-only, that the token reaches the project, environment and services, and what Railway reports about them.',
    details:
      'Every check ends confirmed, refuted or unknown, with what to do. Nothing is changed on Railway: only queries are sent.\n' +
      'Exit 0 when nothing is refuted, 1 when a check is refuted.',
    options: [
      ...RAILWAY_OPTIONS,
      { ...SERVICE_OPTION, required: true },
      {
        name: 'source',
        type: 'string',
        value: 'commit|upload|image',
        description: 'Also check that every service can take this source.',
      },
      {
        name: 'commit-sha',
        type: 'string',
        value: 'SHA',
        description:
          "The commit a release would deploy (names Railway's own deployment of it, which a release adopts).",
      },
      jsonFlag('the report'),
    ],
    examples: [
      'RAILWAY_TOKEN=… rail-actions doctor --service api --service worker --source commit --commit-sha $(git rev-parse HEAD)',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    const services = serviceList(v);
    if (services.length === 0) throw new InputError('service', 'is required: give one or more service names or ids');
    const source = v.string('source')?.trim();
    if (source && !(SOURCES as readonly string[]).includes(source))
      throw new InputError('source', `expected commit, upload or image, got '${source}'`);
    const commitSha = v.string('commit-sha')?.trim();
    if (commitSha && !/^[0-9a-f]{7,40}$/i.test(commitSha))
      throw new InputError('commit-sha', `expected a git commit sha (7–40 hex characters), got '${commitSha}'`);
    const project = v.string('project')?.trim();
    const environment = v.string('environment')?.trim();

    if (!v.string('railway-token')?.trim()) {
      throw new InputError(
        'railway-token',
        'is required: pass --railway-token or set $RAILWAY_TOKEN (project token) / $RAILWAY_API_TOKEN (account token)',
      );
    }
    let report: PreflightReport;
    let client: RailwayClient | undefined;
    try {
      client = await connectRailway(v, ctx, { deadline: Date.now() + 2 * 60_000 });
      report = await preflight(client, {
        services,
        ...(project ? { project } : {}),
        ...(environment ? { environment } : {}),
        ...(source ? { source: source as (typeof SOURCES)[number] } : {}),
        ...(commitSha ? { commitSha } : {}),
      });
    } catch (err) {
      // A missing flag is a usage error; a token Railway refuses or cannot be asked about is a check's verdict.
      if (err instanceof InputError && err.input !== 'railway-token') throw err;
      report = failedConnectionReport(err);
    } finally {
      await client?.close();
    }
    const scrub = (t: string) => client?.scrub(t) ?? t;

    if (v.flag('json')) {
      ctx.print(scrub(JSON.stringify(report, null, 2)));
      return report.ok ? EXIT_OK : EXIT_FAILED;
    }
    const c = ctx.color;
    const where = report.project ? `${report.project.name} / ${report.environment?.name ?? '?'}` : 'Railway';
    ctx.print(`${c.bold('rail-actions doctor')} — ${where} (read-only: no mutation was sent)`);
    ctx.print(
      table(
        [
          ['SUBJECT', 'CHECK', 'VERDICT', 'DETAIL'],
          ...report.checks.map((k) => [k.subject, k.check, verdictText(k.verdict, c), scrub(k.detail)]),
        ],
        c,
      ),
    );
    const todo = report.checks.filter((k) => k.todo && k.verdict !== 'confirmed');
    if (todo.length) {
      ctx.print('');
      ctx.print(c.bold('What to do:'));
      for (const k of todo)
        ctx.print(`  ${verdictText(k.verdict, c)} ${k.subject}: ${k.check} → ${scrub(k.todo ?? '')}`);
    }
    const counts = (['confirmed', 'refuted', 'unknown'] as const)
      .map((x) => `${report.checks.filter((k) => k.verdict === x).length} ${x}`)
      .join(', ');
    ctx.print('');
    ctx.print(
      report.ok
        ? c.green(`✔ nothing refuted (${counts})`)
        : c.red(`✘ ${counts}: fix the refuted checks before deploying`),
    );
    return report.ok ? EXIT_OK : EXIT_FAILED;
  },
};
