// Where option values come from. The actions read them from @actions/core (src/actions/lib/inputs.ts), the CLI from
// its parsed flags and environment (src/cli/options.ts); the typed readers (readers.ts) and the read…Spec() functions
// next to the cores only see this interface, so validation, defaults and error wording exist once.

export interface InputSource {
  /** The value as given, trimmed; '' or undefined when not given (the reader then applies its default). */
  get(name: string): string | undefined;
  /**
   * Hides values from everything this process prints from now on (the runner's log masking for an action, the
   * registered-secret scrubbing for both). Readers call it BEFORE they parse a value, so not even an error can quote
   * a credential.
   */
  mask(values: Iterable<string>): void;
}

/** An InputSource over a plain record (tests, or a front end that has already collected its values). */
export function recordSource(
  values: Record<string, string | undefined>,
  mask: (values: Iterable<string>) => void = () => undefined,
): InputSource {
  return { get: (name) => values[name]?.trim(), mask };
}
