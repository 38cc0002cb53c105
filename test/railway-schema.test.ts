// The emulator's SDL must be a faithful subset of Railway's real public schema, so that anything the client gets to
// work against the emulator is also valid against backboard.railway.com/graphql/v2.
import fs from 'node:fs';
import path from 'node:path';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  EMULATOR_SDL_PATH,
  compareSchemaSubset,
  loadEmulatorSchema,
  loadRailwaySchema,
  railwaySchemaAvailable,
  railwaySchemaPath,
  validateAgainstEmulatorSchema,
  validateAgainstRailwaySchema,
} from './railway-emulator/schema-check.js';

const haveRealSchema = railwaySchemaAvailable();
if (!haveRealSchema)
  console.warn(`[railway-schema.test] SKIPPING comparisons with Railway's schema: ${railwaySchemaPath()} is absent`);

describe('emulator SDL', () => {
  it('parses and declares every operation rail-actions needs', () => {
    const schema = loadEmulatorSchema();
    const q = schema.getQueryType()?.getFields() ?? {};
    const m = schema.getMutationType()?.getFields() ?? {};
    const s = schema.getSubscriptionType()?.getFields() ?? {};
    for (const f of [
      'projectToken',
      'apiToken',
      'projects',
      'project',
      'serviceInstance',
      'serviceInstanceAutoDeployStatus',
      'deployments',
      'deployment',
      'deploymentEvents',
      'buildLogs',
      'deploymentLogs',
      'domains',
    ]) {
      expect(q, `Query.${f}`).toHaveProperty(f);
    }
    for (const f of [
      'serviceInstanceDeployV2',
      'serviceInstanceDeploy',
      'serviceInstanceRedeploy',
      'deploymentRedeploy',
      'deploymentRollback',
      'deploymentCancel',
      'variableCollectionUpsert',
      'deploymentApprove',
    ]) {
      expect(m, `Mutation.${f}`).toHaveProperty(f);
    }
    expect(s).toHaveProperty('deployment');
    expect(String(m.deploymentRollback?.type)).toBe('Boolean!');
    expect(String(m.serviceInstanceDeployV2?.type)).toBe('String!');
    expect(String(m.deploymentRedeploy?.type)).toBe('Deployment!');
  });

  it('rejects operations Railway rejects (docs bugs: rollback selection set, successfulOnly)', () => {
    expect(validateAgainstEmulatorSchema('mutation { deploymentRollback(id: "x") { id } }').join('\n')).toMatch(
      /must not have a selection/,
    );
    expect(
      validateAgainstEmulatorSchema(
        'query { deployments(input: { status: { successfulOnly: true } }) { edges { node { id } } } }',
      ).join('\n'),
    ).toMatch(/successfulOnly/);
    expect(validateAgainstEmulatorSchema('mutation R($id: String!) { deploymentRollback(id: $id) }')).toEqual([]);
  });
});

describe.skipIf(!haveRealSchema)("against Railway's real schema (../shared/railway/schema.json)", () => {
  it('schema.graphql is a subset of it (types, fields, args, nullability, enums)', () => {
    expect(compareSchemaSubset(loadEmulatorSchema(), loadRailwaySchema())).toEqual([]);
  });

  it('the subset check itself detects drift', () => {
    const sdl = fs
      .readFileSync(EMULATOR_SDL_PATH, 'utf8')
      .replace('deploymentRollback(id: String!): Boolean!', 'deploymentRollback(id: String!): Deployment!')
      .replace('  SUCCESS\n  WAITING\n}', '  SUCCESS\n  WAITING\n  CANCELLED\n}')
      .replace('canRollback: Boolean!', 'canRollback: Boolean')
      .replace('serviceInstance(environmentId: String!, serviceId: String!)', 'serviceInstance(serviceId: String!)')
      .replace('type Query {', 'type Query {\n  deploymentStatus(id: String!): String!');
    const problems = compareSchemaSubset(buildSchema(sdl), loadRailwaySchema()).join('\n');
    expect(problems).toMatch(/Mutation\.deploymentRollback is Deployment! here but Boolean!/);
    expect(problems).toMatch(/enum DeploymentStatus values/);
    expect(problems).toMatch(/Deployment\.canRollback is Boolean here but Boolean!/);
    expect(problems).toMatch(/serviceInstance\(environmentId\) is required by Railway/);
    expect(problems).toMatch(/Query\.deploymentStatus does not exist/);
  });

  it('validateAgainstRailwaySchema accepts the CLI operation files and rejects known-bad texts', () => {
    const ops = path.resolve(path.dirname(railwaySchemaPath()), 'ops');
    for (const file of [
      'queries/ProjectToken.graphql',
      'queries/Deployments.graphql',
      'mutations/ServiceInstanceDeploy.graphql',
      'subscriptions/Deployment.graphql',
    ]) {
      const text = fs.readFileSync(path.join(ops, file), 'utf8');
      expect(validateAgainstRailwaySchema(text), file).toEqual([]);
      // The emulator serves the same operations.
      expect(validateAgainstEmulatorSchema(text), `emulator: ${file}`).toEqual([]);
    }
    expect(validateAgainstRailwaySchema('mutation { deploymentRollback(id: "x") { id status } }').join('\n')).toMatch(
      /must not have a selection/,
    );
    expect(
      validateAgainstRailwaySchema(
        'query { deployments(input: { status: { successfulOnly: true } }) { edges { node { id } } } }',
      ).join('\n'),
    ).toMatch(/successfulOnly/);
    expect(validateAgainstRailwaySchema('query {')).not.toEqual([]);
  });
});
