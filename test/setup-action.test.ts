// actions/setup: the package manager and its version are decided by the detect step's bash, which runs here for real
// against package.json/lockfile layouts; and every third-party action the repository pins is a recorded node24 (or
// composite/docker) release (test/fixtures/pinned-actions.json).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from './harness/index.js';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

const setupFile = path.join(projectRoot, 'actions/setup/action.yml');
const setupSteps = (parseYaml(readFileSync(setupFile, 'utf8')) as { runs: { steps: Step[] } }).runs.steps;

function runBash(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

const hasTools = ['bash', 'jq'].every((t) => spawnSync('which', [t]).status === 0);
if (!hasTools) console.warn('bash or jq missing: actions/setup detection tests skipped');

describe.skipIf(!hasTools)('actions/setup package manager detection', () => {
  const detect = setupSteps.find((s) => s.id === 'detect') as Step;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'setup-detect-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** Runs the detect step in a fresh workspace holding `files` (package.json defaults to {}; a string list = empty files). */
  async function detectIn(files: string[] | Record<string, string>, env: Record<string, string> = {}) {
    const work = await mkdtemp(path.join(dir, 'ws-'));
    const contents: Record<string, string> = Array.isArray(files)
      ? Object.fromEntries(files.map((f) => [f, '']))
      : files;
    for (const [f, text] of Object.entries({ 'package.json': '{}', ...contents })) {
      await mkdir(path.dirname(path.join(work, f)), { recursive: true });
      await writeFile(path.join(work, f), text);
    }
    const output = path.join(work, '.github_output');
    await writeFile(output, '');
    const r = await runBash(
      detect.run ?? '',
      {
        PATH: process.env['PATH'] ?? '',
        GITHUB_OUTPUT: output,
        WORKING_DIRECTORY: '.',
        REQUESTED: 'auto',
        REQUESTED_VERSION: '',
        INSTALL_COMMAND: '',
        CACHE: 'true',
        ...env,
      },
      work,
    );
    const outputs = Object.fromEntries(
      readFileSync(output, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { status: r.status, out: r.out, outputs };
  }
  const pkg = (o: unknown) => JSON.stringify(o);

  it('passes every env variable the script reads, and nothing it does not', () => {
    const used = new Set([...(detect.run ?? '').matchAll(/\$\{?([A-Z][A-Z_]+)\b/g)].map((m) => m[1]));
    const given = new Set(Object.keys(detect.env ?? {}));
    for (const name of ['GITHUB_OUTPUT']) given.add(name);
    expect([...used].filter((v) => !given.has(v as string))).toEqual([]);
    expect([...given].filter((v) => !used.has(v))).toEqual([]);
  });

  it.each([
    [['package-lock.json'], 'npm', 'npm ci', 'npm'],
    [['pnpm-lock.yaml'], 'pnpm', 'pnpm install --frozen-lockfile', 'pnpm'],
    [['yarn.lock'], 'yarn', 'yarn install --frozen-lockfile', 'yarn'],
    [['yarn.lock', '.yarnrc.yml'], 'yarn', 'yarn install --immutable', 'yarn'],
    [['bun.lock'], 'bun', 'bun install --frozen-lockfile', ''],
    [['bun.lockb'], 'bun', 'bun install --frozen-lockfile', ''],
  ])('%j → %s, "%s"', async (files, pm, install, cache) => {
    const r = await detectIn(files);
    expect(r.status, r.out).toBe(0);
    expect(r.outputs).toMatchObject({
      'package-manager': pm,
      'install-command': install,
      'node-cache': cache,
      lockfile: `./${files[0]}`,
    });
  });

  it('no lockfile: npm install with a warning, no cache', async () => {
    const r = await detectIn([]);
    expect(r.status).toBe(0);
    expect(r.outputs).toMatchObject({
      'package-manager': 'npm',
      'install-command': 'npm install',
      'node-cache': '',
      lockfile: '',
      'npm-version': '',
    });
    expect(r.out).toMatch(/::warning title=rail-actions setup::No npm lockfile/);
  });

  it('several package managers: an error naming them, unless package-manager says which', async () => {
    const r = await detectIn(['pnpm-lock.yaml', 'package-lock.json']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      /::error title=rail-actions setup::Lockfiles of several package managers .*set package-manager to one of: npm pnpm/,
    );
    const chosen = await detectIn(['pnpm-lock.yaml', 'package-lock.json'], { REQUESTED: 'pnpm' });
    expect(chosen.outputs).toMatchObject({ 'package-manager': 'pnpm', lockfile: './pnpm-lock.yaml' });
  });

  it('explicit install-command and cache off are respected; bad values fail clearly', async () => {
    const r = await detectIn(['package-lock.json'], { INSTALL_COMMAND: 'npm ci --ignore-scripts', CACHE: 'false' });
    expect(r.outputs).toMatchObject({ 'install-command': 'npm ci --ignore-scripts', 'node-cache': '' });
    const bad = await detectIn(['package-lock.json'], { REQUESTED: 'deno' });
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/Input 'package-manager': expected auto, npm, pnpm, yarn or bun, got 'deno'/);
    const none = await detectIn([], { WORKING_DIRECTORY: 'missing' });
    expect(none.status).toBe(1);
    expect(none.out).toMatch(/Input 'working-directory': no package\.json in 'missing'/);
  });

  describe('pnpm version (pnpm/action-setup needs one)', () => {
    it('packageManager pins it: nothing is passed to pnpm/action-setup, which reads the field itself', async () => {
      const r = await detectIn({
        'package.json': pkg({
          packageManager: 'pnpm@9.15.0+sha512.76e2379760a4328ec4415815bcd6628dee727af3779aaa4c914e3944156c4299',
        }),
        'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      });
      expect(r.status, r.out).toBe(0);
      expect(r.outputs).toMatchObject({
        'package-manager': 'pnpm',
        'package-manager-version': '9.15.0',
        'pnpm-version': '',
      });
      expect(r.out).toMatch(/Package manager: pnpm 9\.15\.0 \(package\.json packageManager\)/);
    });

    it.each([
      [
        'devEngines.packageManager',
        { devEngines: { packageManager: { name: 'pnpm', version: '^10.4.0', onFail: 'error' } } },
        '^10.4.0',
      ],
      [
        'devEngines.packageManager (array)',
        { devEngines: { packageManager: [{ name: 'npm' }, { name: 'pnpm', version: '9.12.3' }] } },
        '9.12.3',
      ],
      ['engines.pnpm', { engines: { node: '>=20', pnpm: '>=9.1 <10' } }, '>=9.1 <10'],
    ])('%s → passed as the version', async (source, manifest, version) => {
      const r = await detectIn({ 'package.json': pkg(manifest), 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" });
      expect(r.status, r.out).toBe(0);
      expect(r.outputs).toMatchObject({
        'package-manager': 'pnpm',
        'package-manager-version': version,
        'pnpm-version': version,
      });
      expect(r.out).toContain(`(package.json ${source.replace(' (array)', '')})`);
    });

    it('the input package-manager-version is used when package.json pins nothing, and wins over ranges', async () => {
      const r = await detectIn(
        { 'package.json': pkg({ engines: { pnpm: '>=9' } }), 'pnpm-lock.yaml': '' },
        { REQUESTED_VERSION: '9.15.4' },
      );
      expect(r.outputs).toMatchObject({ 'pnpm-version': '9.15.4' });
      expect(r.out).toMatch(/\(input package-manager-version\)/);
    });

    it.each([
      ["lockfileVersion: '9.0'", '10'],
      ["lockfileVersion: '6.0'", '8'],
      ['lockfileVersion: 5.4', '7'],
      ['lockfileVersion: 5.3', '6'],
      ["lockfileVersion: '11.0'", '11'],
    ])('nothing pinned: %s → pnpm %s (the major that writes that lockfile format)', async (line, version) => {
      const r = await detectIn({ 'pnpm-lock.yaml': `${line}\n\nimporters: {}\n` }, { REQUESTED: 'pnpm' });
      expect(r.status, r.out).toBe(0);
      expect(r.outputs).toMatchObject({ 'pnpm-version': version });
    });

    it('nothing pinned and no lockfile: pnpm 10, stated in the log', async () => {
      const r = await detectIn([], { REQUESTED: 'pnpm' });
      expect(r.outputs).toMatchObject({
        'package-manager': 'pnpm',
        'pnpm-version': '10',
        'install-command': 'pnpm install',
      });
      expect(r.out).toMatch(/pnpm 10 \(default \(pnpm 10\)\)/);
    });
  });

  describe('yarn, bun and npm versions', () => {
    it('yarn berry pinned by packageManager: corepack provides it (nothing to install globally), --immutable', async () => {
      const r = await detectIn({
        'package.json': pkg({ packageManager: 'yarn@4.5.1' }),
        'yarn.lock': '__metadata:\n  version: 8\n',
      });
      expect(r.status, r.out).toBe(0);
      expect(r.outputs).toMatchObject({
        'package-manager': 'yarn',
        'package-manager-version': '4.5.1',
        'yarn-version': '',
        'install-command': 'yarn install --immutable',
      });
    });

    it('yarn with nothing pinned: yarn 1 (classic), or 4 when yarn.lock is in Yarn 2+ format', async () => {
      const classic = await detectIn({ 'yarn.lock': '# yarn lockfile v1\n' });
      expect(classic.outputs).toMatchObject({
        'yarn-version': '1',
        'install-command': 'yarn install --frozen-lockfile',
      });
      const berry = await detectIn({ 'yarn.lock': '__metadata:\n  version: 8\n' });
      expect(berry.outputs).toMatchObject({ 'yarn-version': '4', 'install-command': 'yarn install --immutable' });
    });

    it("yarn from engines.yarn or devEngines: installed as corepack's global default", async () => {
      const r = await detectIn({ 'package.json': pkg({ engines: { yarn: '^3.6.0' } }), 'yarn.lock': '' });
      expect(r.outputs).toMatchObject({ 'yarn-version': '^3.6.0', 'install-command': 'yarn install --immutable' });
      const dev = await detectIn({
        'package.json': pkg({ devEngines: { packageManager: { name: 'yarn', version: '1.22.22' } } }),
      });
      expect(dev.outputs).toMatchObject({
        'package-manager': 'yarn',
        'yarn-version': '1.22.22',
        'install-command': 'yarn install',
      });
    });

    it.each([
      [{ packageManager: 'bun@1.2.3' }, '1.2.3'],
      [{ engines: { bun: '>=1.1' } }, '>=1.1'],
      [{}, 'latest'],
    ])('bun %j → bun-version %s', async (manifest, version) => {
      const r = await detectIn({ 'package.json': pkg(manifest), 'bun.lock': '' });
      expect(r.status, r.out).toBe(0);
      expect(r.outputs).toMatchObject({ 'package-manager': 'bun', 'bun-version': version });
    });

    it('npm: a packageManager/devEngines pin is installed (hash dropped); engines.npm alone keeps the bundled npm', async () => {
      const pinned = await detectIn({
        'package.json': pkg({ packageManager: 'npm@10.9.2+sha512.abc' }),
        'package-lock.json': '',
      });
      expect(pinned.outputs).toMatchObject({ 'package-manager': 'npm', 'npm-version': '10.9.2' });
      const dev = await detectIn({
        'package.json': pkg({ devEngines: { packageManager: { name: 'npm', version: '^11' } } }),
      });
      expect(dev.outputs).toMatchObject({ 'npm-version': '^11' });
      const engines = await detectIn({ 'package.json': pkg({ engines: { npm: '>=10' } }), 'package-lock.json': '' });
      expect(engines.outputs).toMatchObject({ 'npm-version': '' });
      expect(engines.out).toMatch(/\(the npm bundled with Node\.js\)/);
    });

    it('without a lockfile, package.json packageManager / devEngines choose the package manager', async () => {
      expect(
        (await detectIn({ 'package.json': pkg({ packageManager: 'pnpm@9.0.0' }) })).outputs['package-manager'],
      ).toBe('pnpm');
      expect(
        (await detectIn({ 'package.json': pkg({ devEngines: { packageManager: { name: 'bun' } } }) })).outputs[
          'package-manager'
        ],
      ).toBe('bun');
    });
  });

  describe('contradictions and bad values: one clear error', () => {
    it.each([
      [
        'lockfile vs packageManager',
        { 'package.json': pkg({ packageManager: 'yarn@4.1.0' }), 'pnpm-lock.yaml': '' },
        {},
        /The lockfile in '\.' is pnpm's \(pnpm-lock\.yaml\) but package\.json packageManager 'yarn@4\.1\.0' says yarn/,
      ],
      [
        'package-manager vs packageManager',
        { 'package.json': pkg({ packageManager: 'pnpm@9.0.0' }) },
        { REQUESTED: 'yarn' },
        /Input 'package-manager': yarn, but package\.json packageManager is 'pnpm@9\.0\.0'/,
      ],
      [
        'package-manager vs devEngines',
        { 'package.json': pkg({ devEngines: { packageManager: { name: 'pnpm' } } }) },
        { REQUESTED: 'npm' },
        /Input 'package-manager': npm, but package\.json devEngines\.packageManager allows only pnpm/,
      ],
      [
        'input vs packageManager',
        { 'package.json': pkg({ packageManager: 'pnpm@9.15.0' }) },
        { REQUESTED_VERSION: '9.0.0' },
        /Input 'package-manager-version': 9\.0\.0, but package\.json packageManager pins pnpm@9\.15\.0: remove one of them/,
      ],
      [
        'input that is not a version',
        {},
        { REQUESTED_VERSION: 'file:../evil' },
        /Input 'package-manager-version': expected a version or range such as 9\.15\.0, \^4 or latest, got 'file:\.\.\/evil'/,
      ],
      [
        'an option-like input',
        {},
        { REQUESTED_VERSION: '--global' },
        /Input 'package-manager-version': expected a version or range/,
      ],
      [
        'engines value that is a URL',
        { 'package.json': pkg({ engines: { bun: 'https://example.com/bun.zip' } }), 'bun.lock': '' },
        {},
        /package\.json engines\.bun: expected a version or range for bun, got 'https:/,
      ],
      [
        'packageManager without version',
        { 'package.json': pkg({ packageManager: 'pnpm' }) },
        {},
        /package\.json packageManager 'pnpm' has no version \(expected <name>@<version>/,
      ],
      [
        'packageManager of another tool',
        { 'package.json': pkg({ packageManager: 'deno@2.0.0' }) },
        {},
        /packageManager 'deno@2\.0\.0' names 'deno'; rail-actions sets up npm, pnpm, yarn or bun/,
      ],
      ['package.json that is not JSON', { 'package.json': '{ "name": ' }, {}, /\.\/package\.json is not a JSON object/],
    ])('%s', async (_name, files, env, message) => {
      const r = await detectIn(files, env);
      expect(r.status).toBe(1);
      const errors = r.out.split('\n').filter((l) => l.startsWith('::error'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
    });
  });
});

describe('actions/setup passes the detected versions to the pinned actions', () => {
  const step = (uses: RegExp) => setupSteps.find((s) => s.uses && uses.test(s.uses)) as Step;

  it('pnpm/action-setup gets version and package_json_file; setup-bun gets bun-version', () => {
    expect(step(/^pnpm\/action-setup@/).with).toEqual({
      version: '${{ steps.detect.outputs.pnpm-version }}',
      package_json_file: '${{ steps.detect.outputs.directory }}/package.json',
    });
    expect(step(/^oven-sh\/setup-bun@/).with).toEqual({ 'bun-version': '${{ steps.detect.outputs.bun-version }}' });
  });

  it('yarn is set up with corepack before setup-node (its cache asks yarn), a pinned npm after it', () => {
    const names = setupSteps.map((s) => s.name);
    expect(names.indexOf('Set up Yarn (corepack)')).toBeLessThan(names.indexOf('Set up Node.js'));
    expect(names.indexOf('Set up pnpm')).toBeLessThan(names.indexOf('Set up Node.js'));
    expect(names.indexOf('Set up npm')).toBeGreaterThan(names.indexOf('Set up Node.js'));
    const yarn = setupSteps.find((s) => s.name === 'Set up Yarn (corepack)');
    expect(yarn?.run).toContain('corepack install -g "yarn@$YARN_VERSION"');
    expect(yarn?.env).toMatchObject({ YARN_VERSION: '${{ steps.detect.outputs.yarn-version }}' });
  });
});

// ---------- pinned third-party actions ----------

interface PinnedAction {
  action: string;
  version: string;
  sha: string;
  using: string;
  read: string;
  verified: boolean;
}
const pinned = (
  JSON.parse(readFileSync(path.join(projectRoot, 'test/fixtures/pinned-actions.json'), 'utf8')) as {
    actions: PinnedAction[];
  }
).actions;
const ALLOWED_USING = ['node24', 'composite', 'docker'];

/** Third-party `uses:` lines of one file (own $/ and ./ references and docker:// images excluded). */
function thirdPartyUses(text: string): Array<{ line: number; action: string; ref: string; comment: string }> {
  const out: Array<{ line: number; action: string; ref: string; comment: string }> = [];
  text.split('\n').forEach((line, n) => {
    const m = /^\s*(?:-\s*)?uses:\s*['"]?([^\s'"#]+)['"]?\s*(#.*)?$/.exec(line);
    const uses = m?.[1];
    if (
      !uses ||
      uses.startsWith('$/') ||
      uses.startsWith('./') ||
      uses.startsWith('docker://') ||
      /(^|\/)rail-actions\//.test(uses)
    )
      return;
    const at = uses.lastIndexOf('@');
    out.push({ line: n + 1, action: uses.slice(0, at), ref: uses.slice(at + 1), comment: (m[2] ?? '').trim() });
  });
  return out;
}

/** Every problem with the third-party pins of one file, against the recorded table (empty = fine). */
function pinProblems(text: string, table: PinnedAction[]): string[] {
  const problems: string[] = [];
  for (const u of thirdPartyUses(text)) {
    const at = `line ${u.line}: ${u.action}@${u.ref}`;
    const entry = table.find((e) => e.action === u.action && e.sha === u.ref);
    if (!entry) {
      const known = table.filter((e) => e.action === u.action).map((e) => `${e.version} ${e.sha}`);
      problems.push(
        `${at} is not in test/fixtures/pinned-actions.json${known.length ? ` (recorded: ${known.join(', ')})` : ''}`,
      );
      continue;
    }
    if (!ALLOWED_USING.includes(entry.using))
      problems.push(`${at} (${entry.version}) runs on ${entry.using}, not node24/composite/docker`);
    if (u.comment !== `# ${entry.version}`)
      problems.push(`${at} needs the comment '# ${entry.version}', has '${u.comment}'`);
  }
  return problems;
}

const pinnedFiles = [
  ...readdirSync(path.join(projectRoot, '.github/workflows'))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join('.github/workflows', f)),
  ...(existsSync(path.join(projectRoot, 'action.yml')) ? ['action.yml'] : []),
  ...readdirSync(path.join(projectRoot, 'actions'))
    .map((d) => path.join('actions', d, 'action.yml'))
    .filter((f) => existsSync(path.join(projectRoot, f))),
].sort();

describe('pinned third-party actions (test/fixtures/pinned-actions.json)', () => {
  it('the table is well formed: full sha, vX.Y.Z, where runs.using was read', () => {
    expect(pinned.length).toBeGreaterThan(0);
    for (const e of pinned) {
      expect(e.sha, e.action).toMatch(/^[0-9a-f]{40}$/);
      expect(e.version, e.action).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(e.using, e.action).toMatch(/^(node\d+|composite|docker)$/);
      expect(e.read.length, e.action).toBeGreaterThan(20);
      expect(typeof e.verified, e.action).toBe('boolean');
    }
    const keys = pinned.map((e) => `${e.action}@${e.sha}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('finds the files and pins to check', () => {
    expect(pinnedFiles).toEqual(
      expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/deploy.yml', 'actions/setup/action.yml']),
    );
    const all = pinnedFiles.flatMap((f) =>
      thirdPartyUses(readFileSync(path.join(projectRoot, f), 'utf8')).map((u) => u.action),
    );
    expect(new Set(all)).toEqual(
      new Set([
        'actions/checkout',
        'actions/upload-artifact',
        'pnpm/action-setup',
        'actions/setup-node',
        'oven-sh/setup-bun',
        'actions/cache',
      ]),
    );
  });

  it.each(pinnedFiles)(
    '%s: every third-party action is a recorded node24/composite/docker release at its sha',
    (file) => {
      expect(pinProblems(readFileSync(path.join(projectRoot, file), 'utf8'), pinned)).toEqual([]);
    },
  );

  it('the check catches an unrecorded sha, a node20 release and a wrong version comment', () => {
    const node20 = pinned.find((e) => e.using === 'node20');
    expect(node20, 'the table keeps a node20 release as a known-bad example').toBeDefined();
    const problems = pinProblems(
      [
        '      - uses: actions/checkout@0000000000000000000000000000000000000000 # v6.0.1',
        `      - uses: ${node20?.action}@${node20?.sha} # ${node20?.version}`,
        '      - uses: actions/setup-node@6044e13b5dc448c55e2357c09f80417699197238 # v6.1.0',
        '      - uses: $/actions/migrate',
        '      - uses: ./actions/migrate',
      ].join('\n'),
      pinned,
    ).join('\n');
    expect(problems).toMatch(
      /line 1: actions\/checkout@0{40} is not in test\/fixtures\/pinned-actions\.json \(recorded: v6\.0\.1 8e8c483d/,
    );
    expect(problems).toMatch(new RegExp(`line 2: .* runs on node20, not node24/composite/docker`));
    expect(problems).toMatch(/line 3: .* needs the comment '# v6\.2\.0', has '# v6\.1\.0'/);
    expect(problems.split('\n')).toHaveLength(3);
  });
});

describe('npm run action -- --help (test/harness/cli.ts)', () => {
  it('lists every action with its description, composite ones marked, and exits 0', () => {
    const r = spawnSync(
      path.join(projectRoot, 'node_modules/.bin/node'),
      ['--import', './scripts/ts-loader.mjs', 'test/harness/cli.ts', '--help'],
      { cwd: projectRoot, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const names = readdirSync(path.join(projectRoot, 'actions')).filter((d) =>
      existsSync(path.join(projectRoot, 'actions', d, 'action.yml')),
    );
    for (const name of ['.', ...names])
      expect(r.stdout).toMatch(new RegExp(`^  ${name.replace('.', '\\.')} +\\S`, 'm'));
    expect(r.stdout).toMatch(
      /^ {2}migrate-gate +Decides whether a release's pending database migrations may run unattended\.$/m,
    );
    expect(r.stdout).toMatch(/^ {2}setup +Node\.js \+ package manager .* \[composite: not runnable here\]$/m);
    expect(r.stdout).toContain('--input name=value');
    const bare = spawnSync(
      path.join(projectRoot, 'node_modules/.bin/node'),
      ['--import', './scripts/ts-loader.mjs', 'test/harness/cli.ts'],
      { cwd: projectRoot, encoding: 'utf8' },
    );
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/error: missing <action>\nusage: npm run action -- <action>/);
  });
});
