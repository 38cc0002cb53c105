// Run one action locally through the harness, the way a workflow step would run it:
//   node_modules/.bin/node --import ./scripts/ts-loader.mjs test/harness/cli.ts <action> [options]
// <action>: a name under actions/ (health-check), '.' for the root action, or a directory containing action.yml.
// Options:
//   --input name=value   (repeatable; action.yml defaults apply to the rest)
//   --env NAME=value     (repeatable; e.g. GITHUB_SHA=…, GITHUB_TOKEN=…)
//   --event file.json    payload for GITHUB_EVENT_PATH
//   --cwd dir            workspace (default: a fresh temp dir)
//   --timeout-ms n       kill after n ms (default 120000)
//   --no-post            do not run the post step after main (it runs by default when action.yml has one)
//   --help, -h           list the actions (name and description from each action.yml) and these options
// Prints the step's log live, then its outputs, state, exported env, annotations and summary; exits with the step's code.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readActionMetadata, resolveActionFile } from './action-metadata.js';
import { projectRoot, runAction, type ActionResult, type RunOptions } from './index.js';

const USAGE =
  'usage: npm run action -- <action> [--input k=v]... [--env K=V]... [--event f.json] [--cwd dir] [--timeout-ms n] [--no-post]\n' +
  '       (node_modules/.bin/node --import ./scripts/ts-loader.mjs test/harness/cli.ts …; --help lists the actions)';

/** '.' (the root action.yml) and every actions/<name>/action.yml, with the first sentence of its description. */
function listActions(): string {
  const entries: Array<[string, string]> = [];
  const describe = (file: string): string => {
    const doc = parseYaml(readFileSync(file, 'utf8')) as { description?: unknown; runs?: { using?: unknown } } | null;
    const text = typeof doc?.description === 'string' ? doc.description.replace(/\s+/g, ' ').trim() : '';
    const sentence = /^(.+?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
    const short = sentence.length > 110 ? `${sentence.slice(0, 109)}…` : sentence;
    const using = typeof doc?.runs?.using === 'string' ? doc.runs.using : '';
    // The harness runs JavaScript actions only (README "Not emulated").
    return /^node\d+$/.test(using) ? short : `${short} [${using || 'no runs.using'}: not runnable here]`;
  };
  if (existsSync(path.join(projectRoot, 'action.yml')))
    entries.push(['.', describe(path.join(projectRoot, 'action.yml'))]);
  for (const name of readdirSync(path.join(projectRoot, 'actions')).sort()) {
    const file = path.join(projectRoot, 'actions', name, 'action.yml');
    if (existsSync(file)) entries.push([name, describe(file)]);
  }
  const width = Math.max(...entries.map(([n]) => n.length));
  return entries.map(([n, d]) => `  ${n.padEnd(width)}  ${d}`).join('\n');
}

function help(): string {
  return [
    USAGE,
    '',
    'Runs one bundled action the way a workflow step runs it (test/harness/README.md).',
    '',
    'Actions (<action> is one of these names, or a directory holding an action.yml):',
    listActions(),
    '',
    'Options:',
    '  --input name=value   an input (repeatable); action.yml defaults apply to the rest',
    '  --env NAME=value     extra environment (repeatable), e.g. GITHUB_SHA=…',
    '  --event file.json    payload for GITHUB_EVENT_PATH',
    '  --cwd dir            workspace (default: a fresh temp dir)',
    '  --timeout-ms n       kill after n ms (default 120000)',
    '  --no-post            do not run the post step after main',
  ].join('\n');
}

function usage(msg?: string): never {
  if (msg) console.error(`error: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}

function keyValue(arg: string | undefined, flag: string): [string, string] {
  const eq = arg?.indexOf('=') ?? -1;
  if (!arg || eq <= 0) usage(`${flag} expects name=value, got '${arg ?? ''}'`);
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

const argv = process.argv.slice(2);
if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
  console.log(help());
  process.exit(0);
}
const action = argv.shift();
if (!action || action.startsWith('--')) usage('missing <action>');
const opts: RunOptions = { action, inputs: {}, env: {}, echo: true };
let runPost = true;
while (argv.length > 0) {
  const flag = argv.shift();
  if (flag === '--input') {
    const [k, v] = keyValue(argv.shift(), flag);
    opts.inputs![k] = v;
  } else if (flag === '--env') {
    const [k, v] = keyValue(argv.shift(), flag);
    opts.env![k] = v;
  } else if (flag === '--event')
    opts.event = JSON.parse(readFileSync(argv.shift() ?? usage('--event expects a file'), 'utf8'));
  else if (flag === '--cwd') opts.cwd = argv.shift() ?? usage('--cwd expects a directory');
  else if (flag === '--timeout-ms') opts.timeoutMs = Number(argv.shift() ?? usage('--timeout-ms expects a number'));
  else if (flag === '--no-post') runPost = false;
  else if (flag === '--help' || flag === '-h') {
    console.log(help());
    process.exit(0);
  } else usage(`unknown option '${flag}'`);
}

function report(phase: string, r: ActionResult): void {
  const section = (title: string, body: string) => body && console.log(`\n--- ${phase}: ${title}\n${body}`);
  const kv = (o: Record<string, string>) =>
    Object.entries(o)
      .map(([k, v]) => `${k}=${v.includes('\n') ? JSON.stringify(v) : v}`)
      .join('\n');
  section('outputs', kv(r.outputs));
  section('state', kv(r.state));
  section('exported env', kv(r.exportedEnv));
  section(
    'annotations',
    r.annotations.map((a) => `${a.level}: ${a.message} ${JSON.stringify(a.properties)}`).join('\n'),
  );
  section('summary', r.summary);
  const how = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`;
  console.log(`\n--- ${phase}: ${how} after ${r.durationMs} ms (${r.nodeBinary})`);
}

const main = await runAction(opts);
report('main', main);
let code = main.exitCode ?? 1;
const meta = await readActionMetadata(resolveActionFile(action, projectRoot));
if (runPost && meta.post) {
  // The runner runs post steps even when main failed (post-if defaults to always()).
  const post = await runAction({ ...opts, phase: 'post', state: main.state });
  report('post', post);
  if (code === 0) code = post.exitCode ?? 1;
}
process.exitCode = code;
