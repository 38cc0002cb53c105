// Reads an action.yml the way the runner does: validated by GitHub's own parser (@actions/workflow-parser), input
// defaults evaluated as expressions against the github/runner/env contexts the harness provides.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { parse as parseYaml } from 'yaml';

export interface ActionInput {
  id: string;
  required: boolean;
  /** Literal default, or the expression source (without `${{ }}`) when `defaultIsExpression`. */
  default?: string;
  defaultIsExpression: boolean;
}

export interface ActionMetadata {
  file: string;
  dir: string;
  using: string;
  main: string; // absolute
  post?: string; // absolute
  inputs: ActionInput[];
}

// Contexts the runner allows in action input defaults. Only github, runner and env carry data here; the others are
// empty so that `${{ steps.x.outputs.y }}` evaluates to '' instead of failing to parse.
const CONTEXT_NAMES = ['github', 'runner', 'env', 'job', 'steps', 'strategy', 'matrix', 'inputs', 'vars'];

/** Evaluates one expression (the text inside `${{ }}`) and converts the result to the string the runner would pass. */
export function evaluateExpression(expression: string, context: Record<string, unknown>): string {
  const lexed = new Lexer(expression).lex();
  const expr = new Parser(lexed.tokens, CONTEXT_NAMES, []).parse();
  const ctx = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  const result = new Evaluator(expr, ctx).evaluate();
  if (result.kind === data.Kind.Null) return '';
  if (!result.primitive) {
    return JSON.stringify(JSON.parse(JSON.stringify(result, data.replacer)), null, 2);
  }
  return result.coerceString();
}

/** Resolves `action`: an action name under actions/, '.' for the root action, or a directory holding action.yml. */
export function resolveActionFile(action: string, projectRoot: string): string {
  const candidates: string[] = [];
  if (action === '.' || action === '') candidates.push(projectRoot);
  else if (path.isAbsolute(action) || action.startsWith('./') || action.startsWith('../'))
    candidates.push(path.resolve(action));
  else candidates.push(path.join(projectRoot, 'actions', action), path.resolve(projectRoot, action));
  for (const dir of candidates) {
    for (const file of ['action.yml', 'action.yaml']) {
      const full = path.join(dir, file);
      if (existsSync(full)) return full;
    }
  }
  throw new Error(`No action.yml for action '${action}' (looked in ${candidates.join(', ')})`);
}

interface RawInput {
  id: string;
  required: boolean;
  default?: { expression?: string; literal?: string };
}

/** workflow-parser imports its JSON schema without import attributes: fine under vitest (inlined), not in plain Node. */
async function readWithWorkflowParser(
  file: string,
  content: string,
): Promise<{ using: string; main?: string; post?: string; inputs: RawInput[] } | undefined> {
  let mod: typeof import('@actions/workflow-parser/actions/index');
  let wp: typeof import('@actions/workflow-parser');
  try {
    mod = await import('@actions/workflow-parser/actions/index');
    wp = await import('@actions/workflow-parser');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (/IMPORT_(ASSERTION|ATTRIBUTE)/.test(code)) return undefined; // fall back to plain YAML
    throw err;
  }
  const parsed = mod.parseAction({ name: path.basename(file), content }, new wp.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value)
    throw new Error(`${file} is not a valid action.yml:\n  ${errors.join('\n  ')}`);
  const meta = mod.convertActionTemplate(parsed.context, parsed.value);
  const runs = meta.runs as { using: string; main?: string; post?: string };
  const inputs = (meta.inputs ?? []).map((i): RawInput => {
    const d = i.default;
    if (!d) return { id: i.id, required: i.required ?? false };
    const expression = (d as { expression?: unknown }).expression;
    return {
      id: i.id,
      required: i.required ?? false,
      default: typeof expression === 'string' ? { expression } : { literal: d.toString() },
    };
  });
  return { using: runs.using, main: runs.main, post: runs.post, inputs };
}

/** Turns `a ${{ x }} b ${{ y }}` into the equivalent `format('a {0} b {1}', x, y)` like the runner's parser does. */
function templateToExpression(text: string): string | undefined {
  const parts = text.split(/\$\{\{([\s\S]*?)\}\}/);
  if (parts.length === 1) return undefined;
  if (parts.length === 3 && parts[0]!.trim() === '' && parts[2]!.trim() === '') return parts[1]!.trim();
  let fmt = '';
  const args: string[] = [];
  parts.forEach((p, i) => {
    if (i % 2 === 0) fmt += p.replace(/[{}]/g, (c) => c + c);
    else fmt += `{${args.push(p.trim()) - 1}}`;
  });
  return `format('${fmt.replace(/'/g, "''")}', ${args.join(', ')})`;
}

function readWithYaml(
  file: string,
  content: string,
): { using: string; main?: string; post?: string; inputs: RawInput[] } {
  const doc = parseYaml(content) as {
    runs?: { using?: string; main?: string; post?: string };
    inputs?: Record<string, { required?: boolean; default?: unknown } | null>;
  } | null;
  if (!doc?.runs?.using) throw new Error(`${file}: runs.using is missing`);
  const inputs = Object.entries(doc.inputs ?? {}).map(([id, def]): RawInput => {
    const required = def?.required === true;
    if (def?.default === undefined || def.default === null) return { id, required };
    const text = typeof def.default === 'string' ? def.default : JSON.stringify(def.default);
    const expression = templateToExpression(text);
    return { id, required, default: expression ? { expression } : { literal: text } };
  });
  return { using: doc.runs.using, main: doc.runs.main, post: doc.runs.post, inputs };
}

/**
 * `parser: 'auto'` uses GitHub's parser (validates the file) and falls back to plain YAML where that parser cannot be
 * imported (plain Node without a JSON import hook); 'yaml' forces the fallback (tests compare the two).
 */
export async function readActionMetadata(
  file: string,
  opts: { parser?: 'auto' | 'yaml' } = {},
): Promise<ActionMetadata> {
  const content = await readFile(file, 'utf8');
  const raw =
    (opts.parser === 'yaml' ? undefined : await readWithWorkflowParser(file, content)) ?? readWithYaml(file, content);
  if (!/^node\d+$/.test(raw.using) || !raw.main) {
    throw new Error(
      `${file}: the harness runs JavaScript actions only (runs.using nodeNN with runs.main), got '${raw.using}'`,
    );
  }
  const dir = path.dirname(file);
  return {
    file,
    dir,
    using: raw.using,
    main: path.resolve(dir, raw.main),
    ...(raw.post ? { post: path.resolve(dir, raw.post) } : {}),
    inputs: raw.inputs.map((i) => ({
      id: i.id,
      required: i.required,
      ...(i.default ? { default: i.default.expression ?? i.default.literal ?? '' } : {}),
      defaultIsExpression: i.default?.expression !== undefined,
    })),
  };
}
