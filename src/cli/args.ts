// Command-line options on top of node:util parseArgs: flags named like the actions' inputs, environment fallbacks,
// generated --help, and usage errors (exit 2) that name the flag.
import { parseArgs } from 'node:util';
import { InputError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export interface OptionSpec {
  /** Flag name without `--`; the same as the action input it mirrors. */
  name: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Environment variables read when the flag is absent (first non-empty wins), after RAIL_ACTIONS_<NAME>. */
  env?: string[];
  default?: string;
  /** Placeholder in --help, e.g. DURATION. */
  value?: string;
  description: string;
  required?: boolean;
}

/** A usage mistake (unknown flag, missing value, stray argument): exit 2 with a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Extra paragraphs for --help. */
  details?: string;
  /** A positional argument that fills an option (e.g. `verify <url>`). */
  positional?: { option: string; placeholder: string };
  options: OptionSpec[];
  examples?: string[];
  /** Core input names → this command's flag names, for error messages (e.g. migrations-dir → dir). */
  inputAliases?: Record<string, string>;
}

export const COMMON_OPTIONS: OptionSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help.' },
  { name: 'no-color', type: 'boolean', description: 'Plain output even on a terminal (NO_COLOR=1 does the same).' },
];

export function envNameFor(option: string): string {
  return `RAIL_ACTIONS_${option.toUpperCase().replace(/-/g, '_')}`;
}

function envNames(o: OptionSpec): string[] {
  return [envNameFor(o.name), ...(o.env ?? [])];
}

export class Values {
  constructor(
    private readonly specs: Map<string, OptionSpec>,
    private readonly raw: Record<string, string | boolean | Array<string | boolean> | undefined>,
    private readonly env: NodeJS.ProcessEnv,
    readonly command: string,
  ) {}

  private spec(name: string): OptionSpec {
    const s = this.specs.get(name);
    if (!s) throw new Error(`bug: option --${name} is not declared for '${this.command}'`);
    return s;
  }

  /** True when this command declares the flag. */
  has(name: string): boolean {
    return this.specs.has(name);
  }

  /** The flag's declaration (type, multiple). */
  declared(name: string): OptionSpec | undefined {
    return this.specs.get(name);
  }

  /** Where a value came from, for error messages: `--timeout` or `$RAIL_ACTIONS_TIMEOUT`. */
  origin(name: string): string {
    const s = this.spec(name);
    if (this.raw[name] !== undefined) return `--${name}`;
    const env = envNames(s).find((e) => this.env[e]);
    return env ? `$${env} (for --${name})` : `--${name}`;
  }

  /** True when the flag or one of its environment variables was given (not just the default). */
  given(name: string): boolean {
    const v = this.raw[name];
    if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) return true;
    return envNames(this.spec(name)).some((e) => this.env[e]);
  }

  /** Flag, else environment, else default; '' counts as absent. */
  string(name: string): string | undefined {
    const s = this.spec(name);
    const v = this.raw[name];
    if (typeof v === 'string' && v !== '') return v;
    if (Array.isArray(v) && v.length) return String(v[v.length - 1]);
    for (const e of envNames(s)) {
      const fromEnv = this.env[e];
      if (fromEnv) return fromEnv;
    }
    return s.default;
  }

  required(name: string): string {
    const v = this.string(name)?.trim();
    if (!v) {
      const env = envNames(this.spec(name));
      throw new UsageError(`--${name} is required (or set ${env.map((e) => `$${e}`).join(' / ')})`);
    }
    return v;
  }

  /** Repeated flag values, else the environment value split on newlines. */
  list(name: string): string[] {
    const s = this.spec(name);
    const v = this.raw[name];
    if (Array.isArray(v) && v.length) return v.map(String);
    if (typeof v === 'string' && v) return [v];
    for (const e of envNames(s)) {
      const fromEnv = this.env[e];
      if (fromEnv) return fromEnv.split(/\r?\n/).filter((l) => l.trim());
    }
    return s.default ? [s.default] : [];
  }

  flag(name: string): boolean {
    const v = this.raw[name];
    if (typeof v === 'boolean') return v;
    const fromEnv = envNames(this.spec(name))
      .map((e) => this.env[e])
      .find((x) => x !== undefined && x !== '');
    if (fromEnv === undefined) return this.spec(name).default === 'true';
    if (/^(1|true|yes)$/i.test(fromEnv)) return true;
    if (/^(0|false|no)$/i.test(fromEnv)) return false;
    throw new InputError(name, `expected true or false, got '${fromEnv}'`);
  }

  duration(name: string, opts: { allowZero?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.string(name);
    return v === undefined || v.trim() === '' ? undefined : parseDuration(v, name, opts);
  }

  integer(name: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name)?.trim();
    if (!raw) return undefined;
    if (!/^-?\d+$/.test(raw)) throw new InputError(name, `expected a whole number, got '${raw}'`);
    const n = Number(raw);
    if (opts.min !== undefined && n < opts.min) throw new InputError(name, `must be at least ${opts.min}, got ${n}`);
    if (opts.max !== undefined && n > opts.max) throw new InputError(name, `must be at most ${opts.max}, got ${n}`);
    return n;
  }
}

export function parseCommandArgs(spec: CommandSpec, argv: string[], env: NodeJS.ProcessEnv): Values {
  const all = [...spec.options, ...COMMON_OPTIONS];
  const specs = new Map(all.map((o) => [o.name, o]));
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const o of all)
    options[o.name] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, allowNegative: false });
  } catch (err) {
    // parseArgs' messages are clear ("Unknown option '--x'"); drop its generic hint about '--'.
    const message = err instanceof Error ? err.message : String(err);
    const ambiguous = /Option '(-[\w-]+)(?:, (--[\w-]+))?' argument is ambiguous/.exec(message);
    if (ambiguous) {
      const flag = ambiguous[2] ?? ambiguous[1];
      throw new UsageError(`${flag} needs a value; a value starting with '-' must be written as ${flag}=<value>`);
    }
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' '));
  }
  const raw = parsed.values as Record<string, string | boolean | Array<string | boolean> | undefined>;
  const positionals = parsed.positionals;
  if (positionals.length) {
    if (!spec.positional || positionals.length > 1) {
      throw new UsageError(`unexpected argument '${positionals[spec.positional ? 1 : 0]}'`);
    }
    if (raw[spec.positional.option] !== undefined) {
      throw new UsageError(
        `give ${spec.positional.placeholder} either as an argument or with --${spec.positional.option}, not both`,
      );
    }
    raw[spec.positional.option] = positionals[0];
  }
  return new Values(specs, raw, env, spec.name);
}

function optionLine(o: OptionSpec): [string, string] {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
  const extras: string[] = [];
  if (o.default !== undefined && o.type === 'string') extras.push(`default ${o.default}`);
  if (o.multiple) extras.push('repeatable');
  if (o.name !== 'help' && o.name !== 'no-color')
    extras.push(
      `env ${envNames(o)
        .map((e) => `$${e}`)
        .join(', ')}`,
    );
  return [flag, `${o.description}${o.required ? ' (required)' : ''}${extras.length ? ` [${extras.join('; ')}]` : ''}`];
}

export function commandHelp(spec: CommandSpec): string {
  const usage = `Usage: rail-actions ${spec.name}${spec.positional ? ` [${spec.positional.placeholder}]` : ''} [options]`;
  const lines = [usage, '', spec.summary];
  if (spec.details) lines.push('', spec.details);
  lines.push('', 'Options:');
  const rows = [...spec.options, ...COMMON_OPTIONS].map(optionLine);
  const pad = Math.min(40, Math.max(...rows.map(([f]) => f.length)) + 2);
  for (const [flag, text] of rows)
    lines.push(`  ${flag.length + 2 > pad ? `${flag}\n${' '.repeat(pad + 2)}` : flag.padEnd(pad)}${text}`);
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  lines.push('', EXIT_CODES_HELP);
  return lines.join('\n');
}

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0    success (healthy, deployed, rolled back, nothing pending…)',
  '  1    the operation failed or the verdict is negative (not healthy, deploy failed, migration failed)',
  '  2    usage error: unknown command or flag, missing or invalid value (the message names the flag)',
  '  130  interrupted (Ctrl-C / SIGTERM) — what was done so far is reported',
].join('\n');
