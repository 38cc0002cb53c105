/** A bad value given by the user for a named input/flag. Reported as one line, never with a stack. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
    this.input = input;
  }
}

/**
 * An expected failure whose message is already written for the user (an API refused, a verdict was negative).
 * Entry points print only the message; anything else is a bug and is printed with its stack in debug logs.
 */
export class UserFacingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserFacingError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
