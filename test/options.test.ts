// One definition per shared option (src/options/catalogue.ts): every action.yml that declares it has the catalogue's
// default and a description beginning with its help sentence, and the CLI's --help shows the same default and help.
// README tables are generated from action.yml (test/docs.test.ts), so the three cannot drift apart.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATALOGUE, optionDefault, type Place } from '../src/options/catalogue.js';
import { recordSource } from '../src/options/source.js';
import { readHealthSpec, readRailwaySpec } from '../src/release/spec.js';
import { readGateSpec, readMigrateSpec } from '../src/migrations/spec.js';
import { readRestoreSpec } from '../src/backup/spec.js';
import { flagNames } from '../src/cli/options.js';
import { projectRoot } from './harness/index.js';

// Every action.yml and CLI command the catalogue names (a family added to it is checked the same way).
const PLACES = [...new Set(CATALOGUE.flatMap((d) => d.in))];
const ACTIONS = PLACES.filter((p) => p.endsWith('action.yml'));
const COMMANDS = PLACES.filter((p) => p.startsWith('cli:')).map((p) => p.slice(4));
type Inputs = Record<string, { default?: string | number | boolean; description?: string }>;
const inputsOf = (file: string): Inputs =>
  (parse(readFileSync(path.join(projectRoot, file), 'utf8')) as { inputs: Inputs }).inputs;
const oneLine = (text: string | undefined) => (text ?? '').trim().replace(/\s+/g, ' ');

describe('action.yml ↔ catalogue', () => {
  const cases = CATALOGUE.flatMap((def) =>
    def.in.filter((p) => ACTIONS.includes(p)).map((place) => [place, def.name] as const),
  );

  it.each(cases)('%s: %s has the catalogue default and begins with its help', (place, name) => {
    const input = inputsOf(place)[name];
    expect(input, `${place} does not declare ${name}`).toBeDefined();
    expect(String(input?.default ?? '')).toBe(optionDefault(name, place));
    expect(
      oneLine(input?.description).startsWith(
        oneLine(CATALOGUE.find((d) => d.name === name && d.in.includes(place))?.help),
      ),
    ).toBe(true);
  });

  it('every input two of these actions share is catalogued for each of them (no uncatalogued copy can drift)', () => {
    const declared = new Map<string, string[]>();
    for (const file of ACTIONS)
      for (const name of Object.keys(inputsOf(file))) declared.set(name, [...(declared.get(name) ?? []), file]);
    const missing = [...declared]
      .filter(([, files]) => files.length > 1)
      .flatMap(([name, files]) =>
        files
          .filter((f) => !CATALOGUE.some((d) => d.name === name && d.in.includes(f as Place)))
          .map((f) => `${f}: ${name}`),
      );
    expect(missing).toEqual([]);
  });
});

describe('CLI --help ↔ catalogue', () => {
  const helpOf = (command: string): string => {
    const r = spawnSync(process.execPath, [path.join(projectRoot, 'bin/rail-actions.mjs'), command, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(r.status).toBe(0);
    // Help rows may wrap after a long flag: join each flag with its text.
    return r.stdout.replace(/\n {10,}/g, ' ');
  };
  const helps = Object.fromEntries(COMMANDS.map((c) => [c, helpOf(c)]));

  const cases = CATALOGUE.flatMap((def) =>
    def.in.filter((p) => p.startsWith('cli:')).map((place) => [place, def.flag ?? def.name, def.name] as const),
  );
  it.each(cases)('%s: --%s shows the help and the default', (place, flag, name) => {
    const help = helps[place.slice(4)] ?? '';
    const line = help.split('\n').find((l) => new RegExp(`^\\s+(?:-\\w, )?--${flag}(?: <[^>]+>)?\\s`).test(l));
    expect(line, `no --${flag} in rail-actions ${place.slice(4)} --help`).toBeDefined();
    const def = CATALOGUE.find((d) => d.name === name && d.in.includes(place));
    expect(line).toContain(oneLine(def?.help));
    const fallback = optionDefault(name, place);
    if (def?.kind !== 'boolean' && fallback) expect(line).toContain(`default ${fallback}`);
    if (def?.kind !== 'boolean' && !fallback) expect(line).not.toMatch(/\[default /);
  });
});

describe('the readers apply the catalogue defaults', () => {
  it('an action step and a CLI run with nothing given read the same health spec', () => {
    const none = recordSource({});
    const spec = readHealthSpec(none, ['api']);
    expect(spec).toMatchObject({
      healthPath: optionDefault('health-path'),
      expectVersion: 'deployment-id',
      windowMs: 30_000,
    });
    expect(spec.http).toMatchObject({
      intervalMs: 1000,
      maxIntervalMs: 10_000,
      timeoutMs: 300_000,
      requestTimeoutMs: 10_000,
      consecutiveSuccesses: 3,
    });
    expect(readHealthSpec(none, ['api'], { place: 'actions/rollback/action.yml' }).windowMs).toBe(10_000);
    expect(readHealthSpec(none, ['api'], { place: 'cli:rollback' }).windowMs).toBe(10_000);
  });

  it('one max-interval rule: 10 s, or the interval when that is longer', () => {
    expect(
      readHealthSpec(recordSource({ 'health-interval': '20s', 'health-timeout': '5m' }), ['api']).http.maxIntervalMs,
    ).toBe(20_000);
  });

  it('the connection spec: api-url and waiting-timeout defaults, bounds named after the option', () => {
    const spec = readRailwaySpec(recordSource({ 'railway-token': 'tok' }), {
      servicesRequired: false,
      defaultTimeout: '30m',
    });
    expect(spec).toMatchObject({
      apiUrl: optionDefault('api-url'),
      waitingTimeoutMs: 300_000,
      timeoutMs: 1_800_000,
      subscriptions: true,
    });
    expect(() =>
      readRailwaySpec(recordSource({ 'railway-token': 'tok', timeout: '7h' }), {
        servicesRequired: false,
        defaultTimeout: '30m',
      }),
    ).toThrow(/Input 'timeout'/);
  });

  it('the migrations specs: catalogue defaults and bounds; the CLI names of migrations-tool/-dir/-command are recorded', () => {
    const url = { 'database-url': 'postgres://u:pw@127.0.0.1:5432/app' };
    const base = projectRoot;
    expect(readMigrateSpec(recordSource(url), { base })).toMatchObject({
      tool: 'auto',
      dir: '',
      cwd: base,
      mode: 'apply',
      lockTimeoutMs: 5_000,
      statementTimeoutMs: 900_000,
      lockWaitMs: 600_000,
      maxRetries: 5,
      backup: { mode: 'auto', maxBytes: 1024 ** 3, retentionMs: 7 * 86_400_000 },
    });
    expect(() => readMigrateSpec(recordSource({ ...url, 'lock-timeout': '11m' }), { base })).toThrow(
      /Input 'lock-timeout': must be at most 10m/,
    );
    // Retention is compared with timestamps, not given to a timer: a month is fine, past a year is a typo.
    expect(readMigrateSpec(recordSource({ ...url, 'backup-retention': '30d' }), { base }).backup.retentionMs).toBe(
      30 * 86_400_000,
    );
    expect(() => readMigrateSpec(recordSource({ ...url, 'backup-retention': '400d' }), { base })).toThrow(
      /^Input 'backup-retention': must be at most 365d 00h, got '400d'$/,
    );
    expect(() => readMigrateSpec(recordSource({ ...url, 'migrations-tool': 'flyway' }), { base })).toThrow(
      /Input 'migrations-tool'/,
    );
    expect(readGateSpec(recordSource(url), { base })).toMatchObject({ approval: 'risky', largeTableRows: 100_000 });
    const restore = readRestoreSpec(recordSource(url));
    expect(restore.lockWaitMs).toBe(600_000);
    expect(restore.backupId).toBeUndefined();
    for (const place of ['cli:plan', 'cli:migrate'] as const) {
      expect(flagNames(place, ['migrations-tool', 'migrations-dir', 'migrations-command', 'plan-hash'])).toEqual({
        'migrations-tool': 'tool',
        'migrations-dir': 'dir',
        ...(place === 'cli:migrate' ? { 'migrations-command': 'command' } : {}),
      });
    }
  });
});
