// The migrations use cases' decisions on sources, without a database: an app without migrations is success with the
// empty plan-hash and no connection (the URL points at a closed port), except with an own migrator command or an
// approved non-empty plan-hash; the gate turns it into a no-pending plan worded by the front end.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UserFacingError } from '../src/core/errors.js';
import { planHash } from '../src/migrations/hash.js';
import { readGateSpec, readMigrateSpec } from '../src/migrations/spec.js';
import { planMigrations, runMigrate, type MigrationsIo } from '../src/migrations/use-cases.js';
import { recordSource } from '../src/options/source.js';

// Port 9 (discard) on loopback: nothing listens, so any connection attempt would fail the test.
const CLOSED = 'postgres://app:s3cret-pw@127.0.0.1:9/app';
let root: string;
const logs: string[] = [];
const io: MigrationsIo = { log: (m) => logs.push(m), warn: (m) => logs.push(`warn: ${m}`), group: (_t, fn) => fn() };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'use-cases-'));
  await mkdir(path.join(root, 'migrations'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const migrateSpec = (more: Record<string, string> = {}) =>
  readMigrateSpec(recordSource({ 'database-url': CLOSED, 'migrations-dir': 'migrations', ...more }), { base: root });

describe('runMigrate without migrations', () => {
  it('succeeds with nothing applied and the empty plan-hash, without connecting', async () => {
    const run = await runMigrate(migrateSpec(), io);
    expect(run).toMatchObject({
      kind: 'no-migrations',
      planHash: planHash([]),
      none: {
        found: expect.stringMatching(/^No migrations found in 'migrations' \(looked for: .+\)$/) as string,
        searched: false,
      },
    });
  });

  it('the empty set approved is still fine; a non-empty approved plan-hash is refused', async () => {
    await expect(runMigrate(migrateSpec({ 'plan-hash': planHash([]) }), io)).resolves.toMatchObject({
      kind: 'no-migrations',
    });
    await expect(runMigrate(migrateSpec({ 'plan-hash': 'a'.repeat(64) }), io)).rejects.toThrow(UserFacingError);
    await expect(runMigrate(migrateSpec({ 'plan-hash': 'a'.repeat(64) }), io)).rejects.toThrow(
      /approved plan-hash a{64} names pending migrations, but none exist any more/,
    );
  });

  it('an own migrator command with nothing found is an input error naming migrations-dir', async () => {
    const err = await runMigrate(migrateSpec({ 'migrations-command': 'npx prisma migrate deploy' }), io).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('migrations-dir');
  });
});

describe('planMigrations without migrations', () => {
  it('a no-pending plan whose one reason the front end words; no connection', async () => {
    const spec = readGateSpec(recordSource({ 'database-url': CLOSED, 'migrations-dir': 'migrations' }), { base: root });
    const run = await planMigrations(spec, io, (none) => `${none.found} — skip it`);
    expect(run.kind).toBe('no-migrations');
    expect(run.plan).toMatchObject({
      decision: 'no-pending',
      pendingCount: 0,
      planHash: planHash([]),
      requiresApproval: false,
    });
    expect(run.plan.reasons).toHaveLength(1);
    expect(run.plan.reasons[0]).toMatch(/^No migrations found in 'migrations' \(looked for: .+\) — skip it$/);
    expect(logs.join('\n')).not.toContain('s3cret-pw');
  });
});
