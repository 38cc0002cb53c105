import { escapeLineBreaks, scrubRegistered } from './redact.js';

/**
 * A bad value given by the user for a named input/flag. Reported as one line, never with a stack. The one place
 * values reach messages: whatever a parser quoted is scrubbed of registered secrets and kept on one line (see
 * quoteValue), so no input can print a secret or start a workflow command through its error.
 */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(escapeLineBreaks(scrubRegistered(cut(`Input '${input}': ${message}`))));
    this.name = 'InputError';
    this.input = input;
  }
}

// A parser that quotes a whole 100 KB value must not make a 100 KB error line.
const MESSAGE_MAX = 1000;
function cut(message: string): string {
  return message.length > MESSAGE_MAX
    ? `${message.slice(0, MESSAGE_MAX)}… (message cut at ${MESSAGE_MAX} of ${message.length} characters)`
    : message;
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
