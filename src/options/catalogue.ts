// One definition of every option the release family's front ends share: its name, kind, default, bound and one-line
// help. The CLI builds its flags from it (src/cli/options.ts) and test/options.test.ts checks that every action.yml
// declaring the option has the same default and a description that begins with the help sentence, so action.yml,
// the README tables generated from it (npm run docs) and `rail-actions <command> --help` cannot drift apart.

export type OptionKind = 'string' | 'list' | 'boolean' | 'duration' | 'integer' | 'choice' | 'secret' | 'url';

/** Where an option is declared: an action.yml (path from the repository root) or a CLI command. */
export type Place =
  | 'action.yml'
  | 'actions/railway-deploy/action.yml'
  | 'actions/rollback/action.yml'
  | 'actions/health-check/action.yml'
  | 'actions/migrate-gate/action.yml'
  | 'actions/migrate/action.yml'
  | 'actions/restore/action.yml'
  | 'cli:deploy'
  | 'cli:rollback'
  | 'cli:status'
  | 'cli:verify'
  | 'cli:plan'
  | 'cli:migrate'
  | 'cli:restore';

export interface OptionDef {
  /** The input name; also the CLI flag unless `flag` says otherwise. */
  name: string;
  kind: OptionKind;
  /** The default ('' = none), unless `defaults` gives another one for a place. */
  default: string;
  /** Per place, when the same option has another default there (e.g. each action's overall timeout). */
  defaults?: Partial<Record<Place, string>>;
  /** The first sentence of every description (action.yml descriptions begin with it; the CLI help shows it). */
  help: string;
  bound?: { min?: number; max?: string };
  choices?: readonly string[];
  in: readonly Place[];
  /** The CLI's flag name when it differs from the input name (older flags stay as aliases, see src/cli/options.ts). */
  flag?: string;
  /** Placeholder in the CLI's --help. */
  value?: string;
  /** Environment variables the CLI also reads for it. */
  env?: string[];
}

const ROOT: Place = 'action.yml';
const DEPLOY: Place = 'actions/railway-deploy/action.yml';
const ROLLBACK: Place = 'actions/rollback/action.yml';
const CHECK: Place = 'actions/health-check/action.yml';
const RAILWAY_PLACES: Place[] = [ROOT, DEPLOY, ROLLBACK, 'cli:deploy', 'cli:rollback', 'cli:status'];
const VERIFY_PLACES: Place[] = [ROOT, ROLLBACK, 'cli:deploy', 'cli:rollback'];
const SOURCE_PLACES: Place[] = [ROOT, DEPLOY, 'cli:deploy'];

/** The release family's options (railway-deploy, release, rollback; rail-actions deploy/rollback/status). */
export const RELEASE_OPTIONS: readonly OptionDef[] = [
  {
    name: 'railway-token',
    kind: 'secret',
    default: '',
    help: 'A Railway project token (Project → Settings → Tokens; scoped to one environment) or an account/workspace token (then also set project and environment).',
    in: RAILWAY_PLACES,
    value: 'TOKEN',
    env: ['RAILWAY_TOKEN', 'RAILWAY_API_TOKEN'],
  },
  {
    name: 'api-url',
    kind: 'url',
    default: 'https://backboard.railway.com/graphql/v2',
    help: "Railway's public GraphQL endpoint",
    in: RAILWAY_PLACES,
    value: 'URL',
  },
  { name: 'project', kind: 'string', default: '', help: 'Project name or id', in: RAILWAY_PLACES, value: 'NAME|ID' },
  {
    name: 'environment',
    kind: 'string',
    default: '',
    help: 'Environment name or id',
    in: RAILWAY_PLACES,
    value: 'NAME|ID',
  },
  {
    name: 'service',
    kind: 'list',
    default: '',
    help: 'Service name(s) or id(s), one per line',
    in: RAILWAY_PLACES,
    value: 'NAME|ID',
  },
  {
    name: 'timeout',
    kind: 'duration',
    default: '30m',
    defaults: { [DEPLOY]: '20m', [ROLLBACK]: '15m', 'cli:rollback': '15m' },
    help: 'Overall limit',
    bound: { max: '6h' },
    in: [ROOT, DEPLOY, ROLLBACK, 'cli:deploy', 'cli:rollback'],
    value: 'DURATION',
  },
  {
    name: 'waiting-timeout',
    kind: 'duration',
    default: '5m',
    help: 'How long a deployment may sit in WAITING (Railway "Wait for CI") or NEEDS_APPROVAL before it is reported as such.',
    bound: { max: '6h' },
    in: [ROOT, DEPLOY, ROLLBACK, 'cli:deploy', 'cli:rollback'],
    value: 'DURATION',
  },
  {
    name: 'subscriptions',
    kind: 'boolean',
    default: 'true',
    help: 'Follow deployments over a WebSocket subscription',
    in: [ROOT, DEPLOY, ROLLBACK],
  },
  {
    name: 'source',
    kind: 'choice',
    choices: ['commit', 'upload', 'image'],
    default: 'commit',
    // A terminal has no workflow commit to fall back to: the CLI uploads the working directory by default.
    defaults: { 'cli:deploy': 'upload' },
    help: 'commit (serviceInstanceDeployV2 of commit-sha, for GitHub-connected services), upload (a gzip tarball of path',
    in: SOURCE_PLACES,
    value: 'upload|commit|image',
  },
  {
    name: 'commit-sha',
    kind: 'string',
    default: '${{ github.sha }}',
    defaults: { 'cli:deploy': '' },
    help: 'Commit to deploy with source: commit',
    in: SOURCE_PLACES,
    value: 'SHA',
  },
  {
    name: 'autodeploy',
    kind: 'choice',
    choices: ['adopt', 'refuse', 'deploy'],
    default: 'adopt',
    help: 'source: commit on a service Railway deploys by itself on every push (GitHub autodeploy).',
    in: SOURCE_PLACES,
    value: 'adopt|refuse|deploy',
  },
  {
    name: 'autodeploy-wait',
    kind: 'duration',
    default: '30s',
    help: "How long to wait for Railway's own deployment of the commit when autodeploy is on and it is not there yet",
    bound: { max: '6h' },
    in: SOURCE_PLACES,
    value: 'DURATION',
  },
  {
    name: 'path',
    kind: 'list',
    default: '.',
    help: 'Directory to upload with source: upload',
    in: SOURCE_PLACES,
    value: 'DIR|SERVICE=DIR',
  },
  {
    name: 'image',
    kind: 'string',
    default: '',
    help: 'Image reference for source: image',
    in: SOURCE_PLACES,
    value: 'IMAGE',
  },
  {
    name: 'verify',
    kind: 'boolean',
    default: 'true',
    help: 'Verify each service by its rule (see health-url)',
    in: [ROOT, ROLLBACK],
  },
  {
    name: 'health-url',
    kind: 'string',
    default: '',
    help: 'How each service is verified',
    in: VERIFY_PLACES,
    value: 'URL|SERVICE=URL',
  },
  {
    name: 'health-path',
    kind: 'string',
    default: '/health',
    help: 'Path appended to the service domain for a service health-url does not name.',
    in: VERIFY_PLACES,
    value: 'PATH',
  },
  {
    name: 'expect-version',
    kind: 'string',
    default: 'deployment-id',
    help: "What the health body must contain: deployment-id (the verified deployment's id, default), commit, none, or a literal value.",
    in: VERIFY_PLACES,
    value: 'deployment-id|commit|none|TEXT',
  },
  {
    name: 'expect-status',
    kind: 'string',
    default: '200',
    help: 'Accepted HTTP statuses',
    in: [...VERIFY_PLACES, CHECK, 'cli:verify'],
    value: 'CODES',
  },
  {
    name: 'expect-json',
    kind: 'string',
    default: '',
    help: 'field=value conditions on the JSON body, one per line.',
    in: VERIFY_PLACES,
    value: 'PATH=VALUE',
  },
  {
    name: 'consecutive-successes',
    kind: 'integer',
    default: '3',
    help: 'Healthy answers needed in a row',
    bound: { min: 1 },
    in: [...VERIFY_PLACES, CHECK, 'cli:verify'],
    value: 'N',
  },
  {
    name: 'health-interval',
    kind: 'duration',
    default: '1s',
    help: 'Delay between health attempts (backs off after failures).',
    in: VERIFY_PLACES,
    value: 'DURATION',
  },
  {
    name: 'health-timeout',
    kind: 'duration',
    default: '5m',
    help: 'Give up verifying after this long.',
    bound: { max: '6h' },
    in: VERIFY_PLACES,
    value: 'DURATION',
  },
  {
    name: 'request-timeout',
    kind: 'duration',
    default: '10s',
    help: 'Per-request timeout of the health check.',
    bound: { max: '5m' },
    in: VERIFY_PLACES,
    value: 'DURATION',
  },
  {
    name: 'max-latency',
    kind: 'duration',
    default: '',
    help: 'Optional: slower answers count as failed.',
    in: VERIFY_PLACES,
    value: 'DURATION',
  },
  {
    name: 'health-headers',
    kind: 'string',
    default: '',
    help: "Extra headers for the health check, 'Name: value' per line (credential values masked).",
    in: VERIFY_PLACES,
    value: 'LINES',
  },
  {
    name: 'verify-window',
    kind: 'duration',
    default: '30s',
    // A rollback restores a version that already ran: a shorter soak (it is still watched for CRASHED).
    defaults: { [ROLLBACK]: '10s', 'cli:rollback': '10s' },
    help: "Railway's status of each verified deployment must stay SUCCESS, with no instance CRASHED or RESTARTING, this long from the start of its verification (a soak; catches CRASHED after SUCCESS)",
    bound: { max: '6h' },
    in: VERIFY_PLACES,
    value: 'DURATION',
  },
  {
    name: 'rollback',
    kind: 'boolean',
    default: 'true',
    // In a terminal, deploy without verification is the common case; rolling back is asked for.
    defaults: { 'cli:deploy': 'false' },
    help: 'Roll back automatically when the release fails to deploy or verify.',
    in: [ROOT, 'cli:deploy'],
    flag: 'rollback-on-failure',
  },
  {
    name: 'migrate-plan',
    kind: 'string',
    default: '',
    help: "The migrate gate's JSON plan for this release.",
    in: [ROOT, ROLLBACK, 'cli:deploy', 'cli:rollback'],
    value: 'FILE',
  },
  {
    name: 'force',
    kind: 'boolean',
    default: 'false',
    help: 'Roll back even across breaking/destructive migrations',
    in: [ROOT, ROLLBACK, 'cli:deploy', 'cli:rollback'],
  },
  {
    name: 'check-only',
    kind: 'boolean',
    default: 'false',
    help: 'true = read-only preflight, no mutation: proves the token reaches the project, the environment and every service',
    in: [ROOT, DEPLOY],
  },
  {
    name: 'deployment-id',
    kind: 'string',
    default: '',
    help: 'Deployment to restore (one service only).',
    in: [ROLLBACK, 'cli:rollback'],
    value: 'ID',
  },
];

/** The plain health check's options (health-check action, rail-actions verify). */
export const CHECK_OPTIONS: readonly OptionDef[] = [
  { name: 'url', kind: 'url', default: '', help: 'URL to poll', in: [CHECK, 'cli:verify'], value: 'URL' },
  {
    name: 'expect-version',
    kind: 'string',
    default: '',
    help: 'A value that must appear in the body',
    in: [CHECK, 'cli:verify'],
    value: 'TEXT',
  },
  {
    name: 'expect-json',
    kind: 'string',
    default: '',
    help: 'Conditions on the JSON body, one per line',
    in: [CHECK, 'cli:verify'],
    value: 'PATH=VALUE',
  },
  {
    name: 'interval',
    kind: 'duration',
    default: '1s',
    help: 'Spacing of the consecutive healthy answers',
    in: [CHECK, 'cli:verify'],
    value: 'DURATION',
  },
  {
    name: 'max-interval',
    kind: 'duration',
    default: '10s',
    help: 'Longest delay between failed attempts',
    bound: { max: '6h' },
    in: [CHECK, 'cli:verify'],
    value: 'DURATION',
  },
  {
    name: 'timeout',
    kind: 'duration',
    default: '5m',
    help: 'Give up (not healthy) after this long',
    bound: { max: '6h' },
    in: [CHECK, 'cli:verify'],
    value: 'DURATION',
  },
  {
    name: 'request-timeout',
    kind: 'duration',
    default: '10s',
    help: 'A single request with no answer within this counts as a failed attempt.',
    bound: { max: '5m' },
    in: [CHECK, 'cli:verify'],
    value: 'DURATION',
  },
  {
    name: 'max-latency',
    kind: 'duration',
    default: '',
    help: 'Optional: an answer slower than this counts as a failed attempt',
    in: [CHECK, 'cli:verify'],
    value: 'DURATION',
  },
  {
    name: 'failure-threshold',
    kind: 'integer',
    default: '0',
    help: 'Optional fail-fast: once the URL has answered healthy, this many failed attempts in a row end the check',
    bound: { min: 0 },
    in: [CHECK, 'cli:verify'],
    value: 'N',
  },
  {
    name: 'headers',
    kind: 'string',
    default: '',
    help: 'Extra request headers, one "Name: value" per line',
    in: [CHECK, 'cli:verify'],
    value: 'LINES',
  },
];

const GATE: Place = 'actions/migrate-gate/action.yml';
const MIGRATE: Place = 'actions/migrate/action.yml';
const RESTORE: Place = 'actions/restore/action.yml';
const FILES_PLACES: Place[] = [GATE, MIGRATE, 'cli:plan', 'cli:migrate'];
const MIGRATE_PLACES: Place[] = [MIGRATE, 'cli:migrate'];

/**
 * The migrations family's options (migrate-gate, migrate, restore; rail-actions plan/migrate/restore), read by
 * src/migrations/spec.ts and src/backup/spec.ts. A help text that ends mid-sentence is the part every action.yml
 * description shares; the CLI completes it (src/cli/commands/{plan,migrate,restore}.ts).
 */
export const MIGRATIONS_OPTIONS: readonly OptionDef[] = [
  {
    name: 'database-url',
    kind: 'secret',
    default: '',
    help: 'PostgreSQL URL of the',
    in: [...FILES_PLACES, RESTORE, 'cli:restore'],
    value: 'URL',
    env: ['DATABASE_URL'],
  },
  {
    name: 'migrations-tool',
    kind: 'choice',
    choices: ['auto', 'prisma', 'drizzle', 'knex', 'node-pg-migrate', 'golang-migrate', 'dbmate', 'sql'],
    default: 'auto',
    help: 'auto',
    in: FILES_PLACES,
    flag: 'tool',
    value: 'NAME',
  },
  {
    name: 'migrations-dir',
    kind: 'string',
    default: '',
    help: 'Migrations directory relative to working-directory; detected from the repository layout when empty.',
    in: FILES_PLACES,
    flag: 'dir',
    value: 'DIR',
  },
  {
    name: 'working-directory',
    kind: 'string',
    default: '.',
    help: 'Repository root (where package.json / prisma / drizzle.config live), relative to the workspace',
    in: FILES_PLACES,
    value: 'DIR',
  },
  {
    name: 'approval',
    kind: 'choice',
    choices: ['risky', 'always', 'never'],
    default: 'risky',
    help: 'When a human must approve: risky (default) = when any statement is blocking, opaque, breaking or destructive; always = whenever something is pending; never = never (a blocked plan still fails).',
    in: [GATE, 'cli:plan'],
    value: 'risky|always|never',
  },
  {
    name: 'large-table-rows',
    kind: 'integer',
    default: '100000',
    help: 'Row count (pg_class.reltuples) from which a table is large.',
    bound: { min: 0 },
    in: [GATE, 'cli:plan'],
    value: 'N',
  },
  {
    name: 'migrations-command',
    kind: 'string',
    default: '',
    help: "Optional: run the project's own migrator instead of the rail-actions runner",
    in: MIGRATE_PLACES,
    flag: 'command',
    value: 'CMD',
  },
  {
    name: 'plan-hash',
    kind: 'string',
    default: '',
    help: 'The plan-hash output of migrate-gate.',
    in: MIGRATE_PLACES,
    value: 'HEX',
  },
  {
    name: 'mode',
    kind: 'choice',
    choices: ['apply', 'rehearse'],
    default: 'apply',
    help: 'apply (default), or rehearse: only apply the pending migrations to a copy of the production schema on rehearsal-database-url and report.',
    in: MIGRATE_PLACES,
    value: 'apply|rehearse',
  },
  {
    name: 'rehearsal-database-url',
    kind: 'secret',
    default: '',
    help: 'Optional PostgreSQL URL of a throwaway server/database (e.g. the CI pgvector service).',
    in: MIGRATE_PLACES,
    value: 'URL',
  },
  {
    name: 'lock-timeout',
    kind: 'duration',
    default: '5s',
    help: 'lock_timeout for every migration statement: give up waiting for a table lock after this (then retry), so a blocked ALTER never queues all traffic behind it.',
    bound: { max: '10m' },
    in: MIGRATE_PLACES,
    value: 'DURATION',
  },
  {
    name: 'statement-timeout',
    kind: 'duration',
    default: '15m',
    help: 'statement_timeout per statement (0 = none).',
    bound: { max: '120h' },
    in: MIGRATE_PLACES,
    value: 'DURATION',
  },
  {
    name: 'lock-wait',
    kind: 'duration',
    default: '10m',
    help: 'How long to wait when',
    bound: { max: '120h' },
    in: [...MIGRATE_PLACES, RESTORE, 'cli:restore'],
    value: 'DURATION',
  },
  {
    name: 'max-retries',
    kind: 'integer',
    default: '5',
    help: 'Retries after a lock timeout (SQLSTATE 55P03) or deadlock, with exponential backoff.',
    bound: { min: 0, max: '100' },
    in: MIGRATE_PLACES,
    value: 'N',
  },
  {
    name: 'backup',
    kind: 'choice',
    choices: ['auto', 'off'],
    default: 'auto',
    help: 'auto (default): before a statement that destroys data (DROP TABLE/COLUMN, TRUNCATE, DELETE, UPDATE, a column type change that is not binary-coercible), copy exactly what it destroys into schema rail_actions_backup of the same database, in the same transaction as the statement; undo with the restore action or `rail-actions restore`.',
    in: MIGRATE_PLACES,
    value: 'auto|off',
  },
  {
    name: 'backup-max-size',
    kind: 'string',
    default: '1GB',
    help: 'Refuse to migrate (before anything changes) when the backup would be larger than this, estimated from the live table sizes: e.g. 500MB, 2GB; 0 = no limit.',
    in: MIGRATE_PLACES,
    value: 'SIZE',
  },
  {
    name: 'backup-retention',
    kind: 'duration',
    default: '7d',
    help: 'How long a backup is kept; the first migrate run after that drops it.',
    bound: { max: '365d' },
    in: MIGRATE_PLACES,
    value: 'DURATION',
  },
  {
    name: 'backup-id',
    kind: 'string',
    default: '',
    help: "The migrate action's backup-id output.",
    in: [RESTORE, 'cli:restore'],
    value: 'ID',
  },
];

export const CATALOGUE: readonly OptionDef[] = [...RELEASE_OPTIONS, ...CHECK_OPTIONS, ...MIGRATIONS_OPTIONS];

/** The definition of `name` as declared at `place` (a name may mean different things in different families). */
export function optionAt(name: string, place: Place): OptionDef | undefined {
  return CATALOGUE.find((d) => d.name === name && d.in.includes(place));
}

/** The default of `name` at `place` (or the release family's default). */
export function optionDefault(name: string, place?: Place): string {
  const def = (place ? optionAt(name, place) : undefined) ?? CATALOGUE.find((d) => d.name === name);
  if (!def) throw new Error(`bug: option '${name}' is not catalogued`);
  return (place ? def.defaults?.[place] : undefined) ?? def.default;
}
