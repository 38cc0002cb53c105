// The CLI's side of the shared options: flags generated from the catalogue (src/options/catalogue.ts), so a flag has
// the action input's name, default and help, and an InputSource over the parsed flags, so the same read…Spec()
// functions (src/release/spec.ts) validate both front ends with the same wording. Older flag names stay as aliases.
import { registerSecrets } from '../core/redact.js';
import { optionAt, optionDefault, type Place } from '../options/catalogue.js';
import type { InputSource } from '../options/source.js';
import type { OptionSpec, Values } from './args.js';

/** Flags for catalogued options at `place` (a CLI command), in the order given; `extra` amends a flag's declaration. */
export function catalogueFlags(
  place: Place,
  names: string[],
  extra: Record<string, Partial<OptionSpec>> = {},
): OptionSpec[] {
  return names.map((name) => {
    const def = optionAt(name, place);
    if (!def) throw new Error(`bug: option '${name}' is not catalogued for ${place}`);
    const fallback = optionDefault(name, place);
    const spec: OptionSpec = {
      name: def.flag ?? def.name,
      type: def.kind === 'boolean' ? 'boolean' : 'string',
      description: def.help,
      ...(def.kind === 'list' ? { multiple: true } : {}),
      ...(def.kind !== 'boolean' && fallback !== '' ? { default: fallback } : {}),
      ...(def.value ? { value: def.value } : {}),
      ...(def.env ? { env: def.env } : {}),
    };
    const more = extra[name] ?? {};
    return { ...spec, ...more, description: more.description ? `${def.help} ${more.description}` : spec.description };
  });
}

/** The input name of every catalogued option whose flag is named otherwise at `place` (for error messages: input → flag). */
export function flagNames(place: Place, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const flag = optionAt(name, place)?.flag;
    if (flag) out[name] = flag;
  }
  return out;
}

/**
 * The parsed flags (and their RAIL_ACTIONS_* / documented environment fallbacks) as an InputSource. `aliases` maps an
 * input name to the flags that give it, in order; a multi-line input joins every flag's values (e.g. health-headers
 * from --health-headers and repeated -H). A boolean flag gives 'true' when set; a flag not given (or not declared)
 * gives nothing, so the reader applies the catalogue's default.
 */
export function cliSource(v: Values, aliases: Record<string, string[]> = {}): InputSource {
  return {
    get(name) {
      const flags = (aliases[name] ?? [name]).filter((f) => v.has(f));
      const valueOf = (flag: string): string | undefined => {
        const spec = v.declared(flag);
        if (spec?.type === 'boolean') return v.given(flag) ? String(v.flag(flag)) : undefined;
        const text = spec?.multiple ? v.list(flag).join('\n') : v.string(flag);
        return text?.trim() || undefined;
      };
      // Only what was given (all of it joined: repeated -H and --health-headers): the readers apply the catalogue's
      // defaults, as they do for an action input the runner passes empty.
      const given = flags
        .filter((f) => v.given(f))
        .map(valueOf)
        .filter((x): x is string => x !== undefined);
      return given.length ? given.join('\n') : undefined;
    },
    mask: (values) => registerSecrets([...values].filter((x) => x.trim())),
  };
}

/** --json: the command prints `what` as JSON on stdout instead of its human report. */
export function jsonFlag(what = 'the result'): OptionSpec {
  return { name: 'json', type: 'boolean', description: `Print ${what} as JSON on stdout.` };
}
