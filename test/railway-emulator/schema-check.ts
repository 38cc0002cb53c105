// Checks against Railway's real schema (../shared/railway/schema.json, introspection JSON) when it is present:
// - validateAgainstRailwaySchema(): is an operation text valid for backboard's public API?
// - compareSchemaSubset(): is the emulator's SDL a faithful subset of it?
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema,
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  isSpecifiedScalarType,
  parse,
  validate,
  type GraphQLArgument,
  type GraphQLInputField,
  type GraphQLNamedType,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = path.resolve(HERE, '..', '..');
export const EMULATOR_SDL_PATH = path.join(HERE, 'schema.graphql');

export function railwaySchemaPath(): string {
  return path.resolve(PROJECT_ROOT, '../shared/railway/schema.json');
}

export function railwaySchemaAvailable(): boolean {
  return fs.existsSync(railwaySchemaPath());
}

let realSchema: GraphQLSchema | undefined;
let emulatorSchema: GraphQLSchema | undefined;

/** Railway's real public schema; throws a clear error when ../shared/railway/schema.json is absent. */
export function loadRailwaySchema(): GraphQLSchema {
  if (realSchema) return realSchema;
  const file = railwaySchemaPath();
  if (!fs.existsSync(file))
    throw new Error(`Railway's schema is not available at ${file} (check railwaySchemaAvailable() first and skip)`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: IntrospectionQuery } & Partial<IntrospectionQuery>;
  realSchema = buildClientSchema(json.data ?? (json as IntrospectionQuery));
  return realSchema;
}

/** The emulator's own SDL (a subset of Railway's), without resolvers. */
export function loadEmulatorSchema(): GraphQLSchema {
  emulatorSchema ??= buildSchema(fs.readFileSync(EMULATOR_SDL_PATH, 'utf8'));
  return emulatorSchema;
}

function validateText(schema: GraphQLSchema, queryText: string): string[] {
  try {
    return validate(schema, parse(queryText)).map((e) => e.message);
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

/** Validation errors of a parsed operation against Railway's REAL schema ([] = valid). */
export function validateDocumentAgainstRailwaySchema(document: DocumentNode): readonly GraphQLError[] {
  return validate(loadRailwaySchema(), document);
}

/** Validation messages for an operation text against Railway's REAL schema ([] = valid). */
export function validateAgainstRailwaySchema(queryText: string): string[] {
  return validateText(loadRailwaySchema(), queryText);
}

/** Validation messages for an operation text against the emulator's SDL ([] = valid). */
export function validateAgainstEmulatorSchema(queryText: string): string[] {
  return validateText(loadEmulatorSchema(), queryText);
}

function kindOf(t: GraphQLNamedType): string {
  if (isObjectType(t)) return 'object';
  if (isInterfaceType(t)) return 'interface';
  if (isInputObjectType(t)) return 'input';
  if (isEnumType(t)) return 'enum';
  if (isUnionType(t)) return 'union';
  return 'scalar';
}

function sameDefault(a: GraphQLArgument | GraphQLInputField, b: GraphQLArgument | GraphQLInputField): boolean {
  return JSON.stringify(a.defaultValue) === JSON.stringify(b.defaultValue);
}

/**
 * Every way `sub` is not a faithful subset of `full` ([] = it is): each type exists with the same kind; each field,
 * argument and input field exists with the identical type and default; each argument or input field that `full`
 * requires is present in `sub` (otherwise an operation valid here could be invalid on Railway); enums carry exactly
 * Railway's values; declared interfaces are implemented there too.
 */
export function compareSchemaSubset(sub: GraphQLSchema, full: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
    const subRoot =
      root === 'Query' ? sub.getQueryType() : root === 'Mutation' ? sub.getMutationType() : sub.getSubscriptionType();
    const fullRoot =
      root === 'Query'
        ? full.getQueryType()
        : root === 'Mutation'
          ? full.getMutationType()
          : full.getSubscriptionType();
    if (subRoot && subRoot.name !== fullRoot?.name)
      problems.push(`root ${root} type is ${subRoot.name}, Railway's is ${fullRoot?.name ?? 'absent'}`);
  }
  for (const [name, t] of Object.entries(sub.getTypeMap())) {
    if (name.startsWith('__') || (isScalarType(t) && isSpecifiedScalarType(t))) continue;
    const other = full.getType(name);
    if (!other) {
      problems.push(`type ${name} does not exist in Railway's schema`);
      continue;
    }
    if (kindOf(t) !== kindOf(other)) {
      problems.push(`type ${name} is ${kindOf(t)} here but ${kindOf(other)} in Railway's schema`);
      continue;
    }
    if ((isObjectType(t) || isInterfaceType(t)) && (isObjectType(other) || isInterfaceType(other))) {
      const otherFields = other.getFields();
      for (const iface of t.getInterfaces()) {
        if (!other.getInterfaces().some((i) => i.name === iface.name))
          problems.push(`${name} implements ${iface.name} here but not in Railway's schema`);
      }
      for (const [fieldName, field] of Object.entries(t.getFields())) {
        const otherField = otherFields[fieldName];
        if (!otherField) {
          problems.push(`field ${name}.${fieldName} does not exist in Railway's schema`);
          continue;
        }
        if (String(field.type) !== String(otherField.type)) {
          problems.push(
            `field ${name}.${fieldName} is ${String(field.type)} here but ${String(otherField.type)} in Railway's schema`,
          );
        }
        for (const arg of field.args) {
          const otherArg = otherField.args.find((a) => a.name === arg.name);
          if (!otherArg) problems.push(`argument ${name}.${fieldName}(${arg.name}) does not exist in Railway's schema`);
          else if (String(arg.type) !== String(otherArg.type))
            problems.push(
              `argument ${name}.${fieldName}(${arg.name}) is ${String(arg.type)} here but ${String(otherArg.type)} in Railway's schema`,
            );
          else if (!sameDefault(arg, otherArg))
            problems.push(`argument ${name}.${fieldName}(${arg.name}) default differs from Railway's`);
        }
        for (const otherArg of otherField.args) {
          const required = String(otherArg.type).endsWith('!') && otherArg.defaultValue === undefined;
          if (required && !field.args.some((a) => a.name === otherArg.name))
            problems.push(`argument ${name}.${fieldName}(${otherArg.name}) is required by Railway but missing here`);
        }
      }
    } else if (isInputObjectType(t) && isInputObjectType(other)) {
      const otherFields = other.getFields();
      for (const [fieldName, field] of Object.entries(t.getFields())) {
        const otherField = otherFields[fieldName];
        if (!otherField) problems.push(`input field ${name}.${fieldName} does not exist in Railway's schema`);
        else if (String(field.type) !== String(otherField.type))
          problems.push(
            `input field ${name}.${fieldName} is ${String(field.type)} here but ${String(otherField.type)} in Railway's schema`,
          );
        else if (!sameDefault(field, otherField))
          problems.push(`input field ${name}.${fieldName} default differs from Railway's`);
      }
      for (const [fieldName, otherField] of Object.entries(otherFields)) {
        const required = String(otherField.type).endsWith('!') && otherField.defaultValue === undefined;
        if (required && !t.getFields()[fieldName])
          problems.push(`input field ${name}.${fieldName} is required by Railway but missing here`);
      }
    } else if (isEnumType(t) && isEnumType(other)) {
      const mine = t
        .getValues()
        .map((v) => v.name)
        .sort();
      const theirs = other
        .getValues()
        .map((v) => v.name)
        .sort();
      if (mine.join(',') !== theirs.join(','))
        problems.push(`enum ${name} values [${mine.join(', ')}] differ from Railway's [${theirs.join(', ')}]`);
    }
  }
  return problems;
}
