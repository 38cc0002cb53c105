// Every operation text the Railway client sends (src/railway/operations.ts) must be valid for Railway's public
// schema (../shared/railway/schema.json — skipped with a printed reason when absent) and for the emulator's SDL.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildClientSchema, buildSchema, getOperationAST, parse, validate, type IntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ALL_OPERATIONS, ROLLBACK_DEPLOYMENT } from '../src/railway/operations.js';
import { projectRoot } from './harness/index.js';

const schemaJson = path.resolve(projectRoot, '../shared/railway/schema.json');
const haveRailwaySchema = existsSync(schemaJson);
if (!haveRailwaySchema)
  console.warn(`railway-operations: skipping validation against Railway's schema: ${schemaJson} is absent`);

const entries = Object.entries(ALL_OPERATIONS);

describe('operation texts', () => {
  it.each(entries)('%s parses, is one named operation, and its name is unique', (_key, text) => {
    const doc = parse(text);
    const op = getOperationAST(doc);
    expect(op?.name?.value).toBeTruthy();
    const names = entries.map(([, t]) => getOperationAST(parse(t))?.name?.value);
    expect(names.filter((n) => n === op?.name?.value)).toHaveLength(1);
  });

  it('deploymentRollback is sent without a selection set (it returns Boolean!)', () => {
    expect(ROLLBACK_DEPLOYMENT).toMatch(/deploymentRollback\(id: \$id\)\s*\}\s*$/);
  });
});

describe.skipIf(!haveRailwaySchema)("against Railway's public schema (../shared/railway/schema.json)", () => {
  const schema = haveRailwaySchema
    ? (() => {
        const json = JSON.parse(readFileSync(schemaJson, 'utf8')) as { data?: IntrospectionQuery } & IntrospectionQuery;
        return buildClientSchema(json.data ?? json);
      })()
    : undefined;
  it.each(entries)('%s validates', (_key, text) => {
    if (!schema) throw new Error('unreachable');
    expect(validate(schema, parse(text)).map((e) => e.message)).toEqual([]);
  });
});

describe("against the emulator's SDL", () => {
  const sdl = buildSchema(readFileSync(path.join(projectRoot, 'test/railway-emulator/schema.graphql'), 'utf8'));
  it.each(entries)('%s validates', (_key, text) => {
    expect(validate(sdl, parse(text)).map((e) => e.message)).toEqual([]);
  });
});
