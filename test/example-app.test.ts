// The example app's migrations folder is a layout rail-actions' migrate actions support: the same runner the migrate
// action uses detects it as plain SQL, applies both files (the second outside a transaction), and afterwards nothing
// is pending and no anomaly is reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { projectRoot } from './harness/index.js';
import { applyMigrations } from '../src/migrations/runner/apply.js';
import { findPending } from '../src/migrations/pending.js';

const appDir = path.join(projectRoot, 'examples/app');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('example_migrations');
});
afterAll(async () => {
  await db?.drop();
});

describe('examples/app migrations', () => {
  it('are detected as plain SQL, applied by the migrate runner, and leave nothing pending', async () => {
    const before = await findPending({ databaseUrl: db.url, dir: 'migrations', cwd: appDir });
    expect(before.tool).toBe('sql');
    expect(before.pending.map((f) => f.id)).toEqual(['001_documents.sql', '002_documents_embedding_index.sql']);
    expect(before.pending[1]?.noTransaction).toBe(true);

    const result = await applyMigrations({
      databaseUrl: db.url,
      dir: 'migrations',
      cwd: appDir,
      tool: 'auto',
      lockTimeoutMs: 5000,
      statementTimeoutMs: 60_000,
      lockWaitMs: 30_000,
      maxRetries: 2,
    });
    expect(result.applied.map((f) => f.id)).toEqual(['001_documents.sql', '002_documents_embedding_index.sql']);
    expect(result.invalidIndexes).toEqual([]);

    const after = await findPending({ databaseUrl: db.url, dir: 'migrations', cwd: appDir });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
  });
});
