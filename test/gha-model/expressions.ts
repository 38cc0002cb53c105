// Expression handling for the GitHub Actions model: every expression goes through GitHub's own
// @actions/expressions (Lexer → Parser → Evaluator), never through a hand-written evaluator, so operator precedence,
// loose equality (null == 0 == '' …), case-insensitive property access and `needs.*.result` filtering are GitHub's.
import { Evaluator, Lexer, Parser, data, type Expr } from '@actions/expressions';
import { Binary, FunctionCall, Grouping, IndexAccess, Logical, Unary } from '@actions/expressions/ast';
import { truthy } from '@actions/expressions/result';

/** An error in the workflow or the scenario (not a GitHub run failure): the model refuses instead of guessing. */
export class ModelError extends Error {
  override name = 'ModelError';
}

export const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always'] as const;

/** What the status functions return where an `if:` is evaluated. */
export interface Status {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

/**
 * Contexts allowed per workflow key (docs "Contexts reference › Context availability"). An expression that names any
 * other context is rejected by GitHub when the workflow is loaded; the parser rejects it here the same way.
 */
export const CONTEXTS = {
  workflowEnv: ['github', 'secrets', 'inputs', 'vars'],
  jobIf: ['github', 'needs', 'vars', 'inputs'],
  jobEnv: ['github', 'needs', 'strategy', 'matrix', 'vars', 'secrets', 'inputs'],
  environment: ['github', 'needs', 'strategy', 'matrix', 'vars', 'inputs'],
  environmentUrl: ['github', 'needs', 'strategy', 'matrix', 'job', 'runner', 'env', 'vars', 'steps', 'inputs'],
  jobOutputs: ['github', 'needs', 'strategy', 'matrix', 'job', 'runner', 'env', 'vars', 'secrets', 'steps', 'inputs'],
  step: ['github', 'needs', 'strategy', 'matrix', 'job', 'runner', 'env', 'vars', 'secrets', 'steps', 'inputs'],
  callWith: ['github', 'needs', 'strategy', 'matrix', 'inputs', 'vars'],
  callSecrets: ['github', 'needs', 'strategy', 'matrix', 'secrets', 'inputs', 'vars'],
  workflowCallOutputs: ['github', 'jobs', 'vars', 'inputs'],
} as const satisfies Record<string, readonly string[]>;

export type Segment = { literal: string } | { expression: string };

/**
 * Splits a `${{ }}` template into literal and expression segments. The closing `}}` is searched outside
 * single-quoted string literals (so `${{ format('}}') }}` works), as GitHub's template reader does.
 */
export function splitTemplate(value: string): Segment[] {
  const segments: Segment[] = [];
  let rest = 0;
  for (;;) {
    const open = value.indexOf('${{', rest);
    if (open < 0) break;
    let i = open + 3;
    let inString = false;
    let close = -1;
    for (; i < value.length; i++) {
      const c = value[i];
      if (inString) {
        if (c === "'") {
          if (value[i + 1] === "'")
            i++; // '' escapes a quote inside a literal
          else inString = false;
        }
      } else if (c === "'") {
        inString = true;
      } else if (c === '}' && value[i + 1] === '}') {
        close = i;
        break;
      }
    }
    if (close < 0) throw new ModelError(`unclosed \${{ in ${JSON.stringify(value)}`);
    if (open > rest) segments.push({ literal: value.slice(rest, open) });
    segments.push({ expression: value.slice(open + 3, close).trim() });
    rest = close + 2;
  }
  if (rest < value.length || segments.length === 0) segments.push({ literal: value.slice(rest) });
  return segments;
}

/** `${{ x }}` as the whole value → `x`; anything else → undefined. */
export function singleExpression(value: string): string | undefined {
  const segments = splitTemplate(value.trim());
  const only = segments.length === 1 ? segments[0] : undefined;
  return only !== undefined && 'expression' in only ? only.expression : undefined;
}

const statusInfos = STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 }));

function parse(expression: string, contexts: readonly string[], withStatus: boolean): Expr {
  try {
    return new Parser(new Lexer(expression).lex().tokens, [...contexts], withStatus ? statusInfos : []).parse();
  } catch (e) {
    throw new ModelError(
      `cannot parse \${{ ${expression} }} (allowed contexts here: ${contexts.join(', ')}): ${(e as Error).message}`,
    );
  }
}

/**
 * Whether an expression calls a status function, by walking the parsed tree (not a regex: `'success()'` inside a
 * string literal does not count). Same walk as @actions/workflow-parser `model/converter/if-condition.js`
 * (walkTreeToFindStatusFunctionCalls), which decides whether GitHub prepends `success() &&`.
 */
export function hasStatusFunction(tree: Expr): boolean {
  if (tree instanceof FunctionCall) {
    const name = tree.functionName.lexeme.toLowerCase();
    return (STATUS_FUNCTIONS as readonly string[]).includes(name) || tree.args.some(hasStatusFunction);
  }
  if (tree instanceof Binary) return hasStatusFunction(tree.left) || hasStatusFunction(tree.right);
  if (tree instanceof Unary) return hasStatusFunction(tree.expr);
  if (tree instanceof Logical) return tree.args.some(hasStatusFunction);
  if (tree instanceof Grouping) return hasStatusFunction(tree.group);
  if (tree instanceof IndexAccess) return hasStatusFunction(tree.expr) || hasStatusFunction(tree.index);
  return false;
}

/** Plain JS values → the expression library's data model (missing contexts become empty objects). */
function toContext(values: Record<string, unknown>, contexts: readonly string[]): data.Dictionary {
  const plain: Record<string, unknown> = {};
  for (const name of contexts) plain[name] = values[name] ?? {};
  return JSON.parse(JSON.stringify(plain), data.reviver) as data.Dictionary;
}

function functions(status: Status | undefined) {
  if (!status) return undefined;
  const fn = (name: string, value: boolean) =>
    [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) }] as const;
  return new Map([
    fn('success', status.success),
    fn('failure', status.failure),
    fn('cancelled', status.cancelled),
    fn('always', true),
  ]);
}

export interface EvalScope {
  /** Which contexts GitHub allows for this key (see CONTEXTS). */
  contexts: readonly string[];
  /** Context values as plain JSON-like objects. */
  values: Record<string, unknown>;
  /** Where this is evaluated, for error messages. */
  where: string;
}

function evaluateExpression(expression: string, scope: EvalScope, status?: Status): data.ExpressionData {
  const tree = withWhere(scope.where, () => parse(expression, scope.contexts, status !== undefined));
  try {
    return new Evaluator(tree, toContext(scope.values, scope.contexts), functions(status)).evaluate();
  } catch (e) {
    throw new ModelError(`${scope.where}: evaluating \${{ ${expression} }} failed: ${(e as Error).message}`);
  }
}

function withWhere<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelError && !e.message.startsWith(where)) throw new ModelError(`${where}: ${e.message}`);
    throw e;
  }
}

/**
 * Evaluates a workflow value: a lone `${{ x }}` keeps the type of `x` (this is how a boolean reaches a reusable
 * workflow's boolean input); a template with text around or several expressions becomes a string; YAML scalars pass
 * through unchanged.
 */
export function evaluateValue(value: unknown, scope: EvalScope): data.ExpressionData {
  return withWhere(scope.where, () => {
    if (typeof value !== 'string')
      return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
    const segments = splitTemplate(value);
    const only = segments.length === 1 ? segments[0] : undefined;
    if (only !== undefined && 'expression' in only) return evaluateExpression(only.expression, scope);
    let text = '';
    for (const s of segments)
      text += 'literal' in s ? s.literal : toText(evaluateExpression(s.expression, scope), scope.where);
    return new data.StringData(text);
  });
}

/** An evaluated value as the string a step input, env var or output receives. */
export function toText(value: data.ExpressionData, where: string): string {
  if (value.kind === data.Kind.Array || value.kind === data.Kind.Dictionary) {
    throw new ModelError(`${where}: an object or array cannot be used where a string is expected (use toJSON())`);
  }
  return value.coerceString();
}

export function evaluateText(value: unknown, scope: EvalScope): string {
  return toText(evaluateValue(value, scope), scope.where);
}

/** Expression data → plain JS (null, boolean, number, string, arrays, objects). */
export function toPlain(value: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(value, data.replacer)) as unknown;
}

export interface Condition {
  /** The condition as GitHub runs it, e.g. `success() && (inputs.x)`. */
  effective: string;
  evaluate(scope: EvalScope, status: Status): boolean;
}

/**
 * An `if:` value: bare (`if: a == b`) or wrapped (`if: ${{ a == b }}`); missing/empty → `success()`; without a status
 * function → `success() && (<expr>)` (docs "Evaluate expressions › Status check functions": "A default status check of
 * success() is applied unless you include one of these functions"; @actions/workflow-parser convertToIfCondition).
 * A value with text around `${{ }}` is a string template, which is truthy whenever it is non-empty — the classic
 * `if: ${{ a }} && ${{ b }}` mistake behaves as on GitHub.
 */
export function condition(raw: unknown, contexts: readonly string[], where = 'if'): Condition {
  return withWhere(where, () => parseCondition(raw, contexts));
}

function parseCondition(raw: unknown, contexts: readonly string[]): Condition {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    return {
      effective: 'success()',
      evaluate: (scope, status) => truthy(evaluateExpression('success()', scope, status)),
    };
  }
  if (typeof raw === 'boolean' || typeof raw === 'number') raw = String(raw);
  if (typeof raw !== 'string') throw new ModelError(`an if: must be a string, got ${JSON.stringify(raw)}`);
  const text = raw.trim();
  const segments = text.includes('${{') ? splitTemplate(text) : [{ expression: text }];
  const only = segments.length === 1 ? segments[0] : undefined;
  if (only !== undefined && 'expression' in only) {
    const has = hasStatusFunction(parse(only.expression, contexts, true));
    const effective = has ? only.expression : `success() && (${only.expression})`;
    parse(effective, contexts, true);
    return { effective, evaluate: (scope, status) => truthy(evaluateExpression(effective, scope, status)) };
  }
  // String template: status functions inside the ${{ }} parts still count for the implicit success().
  const has = segments.some((s) => 'expression' in s && hasStatusFunction(parse(s.expression, contexts, true)));
  return {
    effective: has ? text : `success() && (${text})`,
    evaluate: (scope, status) => {
      let out = '';
      for (const s of segments)
        out += 'literal' in s ? s.literal : toText(evaluateExpression(s.expression, scope, status), scope.where);
      return out.length > 0 && (has || status.success);
    },
  };
}
