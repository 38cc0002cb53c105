// Which component checks a health body says are failing, so a degraded answer reads "checks failing: redis=down"
// rather than a cut-off JSON snippet. The common shapes:
//   { checks: { redis: "down" } }, { checks: { redis: { status: "down" } } }       hand-written /health endpoints
//   { checks: { "redis:ping": [{ status: "fail" }] } }                             draft-inadarei-api-health-check
//   { checks: [{ name: "redis", status: "DOWN" }] }                                 MicroProfile Health
//   { status: "error", info: {…}, error: { redis: { status: "down" } }, details: {…} }   @nestjs/terminus
//                                                  (HealthCheckResult: `error` holds the indicators that are down)
//   { status: "DOWN", components: { db: { status: "DOWN", components: {…} } } }    Spring Boot Actuator (2.2+;
//                                                                                   2.0/2.1 used `details`)
// Only names and status words are shown — never messages or other values, which may carry connection strings.
// Shapes from: @nestjs/terminus dist/health-check/health-check-result.interface.d.ts; Spring Boot reference,
// "Actuator › Endpoints › Health Information"; MicroProfile Health 4.0 spec (JSON protocol);
// https://datatracker.ietf.org/doc/html/draft-inadarei-api-health-check.

export interface FailingCheck {
  /** Dotted for nested components (`db.primary`). */
  name: string;
  /** The status word when it is one (`down`, `DOWN`, `fail`, `false`); undefined when the value is free text. */
  status?: string;
  /** Where it is in the body, as an expect-json path (`checks.redis`, `components.db.components.primary`). */
  path: string;
}

const CONTAINERS = ['checks', 'components', 'details', 'error'] as const;
// Nested composites (Spring groups) use these; a nested `details` holds an indicator's data, not sub-checks.
const NESTED_CONTAINERS = ['components', 'checks'] as const;
const HEALTHY = new Set([
  'ok',
  'up',
  'pass',
  'passed',
  'healthy',
  'true',
  'green',
  'success',
  'available',
  'ready',
  'serving',
  'connected',
  'online',
]);
// A status is shown only when it is a bare word: letters, `_` and `-`, short (no digits: hardly a token or password).
const STATUS_WORD = /^[A-Za-z][A-Za-z_-]{0,23}$/;
// Own properties of a serialized Error (@godaddy/terminus can send `error: <Error>`): data, not checks.
const NOT_A_CHECK = new Set(['message', 'stack', 'cause', 'code', 'errno', 'syscall']);
const MAX_DEPTH = 4;

/** Failing checks named by a parsed health body, in body order; [] when it names none (or has no known shape). */
export function failingChecks(json: unknown): FailingCheck[] {
  if (!isObject(json)) return [];
  const out = new Map<string, FailingCheck>();
  for (const key of CONTAINERS) collect(json[key], '', key, 0, out);
  return [...out.values()];
}

const SHOWN_CHECKS = 4;
const NAME_LIMIT = 40;

export interface DescribeOptions {
  /** An expect-json path already reported (`checks.db`): its check is not named twice. */
  except?: string;
  /** Masks credentials in a name; applied BEFORE names are shortened, so a cut cannot leave half a secret. */
  scrub?: (text: string) => string;
}

/** `checks failing: redis=down, db.primary=DOWN (+2 more)`, one line, bounded; undefined when none are named. */
export function describeFailingChecks(json: unknown, opts: DescribeOptions = {}): string | undefined {
  const { except, scrub = (t: string) => t } = opts;
  const failing = failingChecks(json).filter(
    (c) => except === undefined || (except !== c.path && !except.startsWith(`${c.path}.`)),
  );
  if (failing.length === 0) return undefined;
  const shown = failing
    .slice(0, SHOWN_CHECKS)
    .map((c) => `${oneLine(scrub(c.name), NAME_LIMIT)}${c.status ? `=${scrub(c.status)}` : ''}`);
  const more = failing.length > SHOWN_CHECKS ? ` (+${failing.length - SHOWN_CHECKS} more)` : '';
  return `checks failing: ${shown.join(', ')}${more}`;
}

function collect(container: unknown, prefix: string, at: string, depth: number, out: Map<string, FailingCheck>): void {
  if (depth > MAX_DEPTH) return;
  // [name, key in the container, value]
  const entries: Array<[string, string, unknown]> = Array.isArray(container)
    ? container.map((item, i) => [isObject(item) ? (nameOf(item) ?? `#${i}`) : `#${i}`, String(i), item])
    : isObject(container)
      ? Object.entries(container)
          .filter(([k]) => !NOT_A_CHECK.has(k))
          .map(([k, v]) => [k, k, v])
      : [];
  for (const [key, index, value] of entries) {
    const name = prefix ? `${prefix}.${key}` : key;
    const path = `${at}.${index}`;
    const state = stateOf(value);
    if (!state || state.healthy) continue;
    // A failing composite names its failing parts (Spring's db → db.primary) when it lists them.
    const before = out.size;
    if (isObject(value))
      for (const nested of NESTED_CONTAINERS) collect(value[nested], name, `${path}.${nested}`, depth + 1, out);
    if (out.size === before && !out.has(name)) out.set(name, { name, status: state.word, path });
  }
}

/** Whether a check entry is healthy, and its status word; undefined when the value does not look like a check. */
function stateOf(value: unknown): { healthy: boolean; word?: string } | undefined {
  if (typeof value === 'boolean') return { healthy: value, word: String(value) };
  if (typeof value === 'string') {
    // A bare string is a check only when it is a status word; free text may be a message (or a connection string).
    return STATUS_WORD.test(value) ? { healthy: HEALTHY.has(value.toLowerCase()), word: value } : undefined;
  }
  if (Array.isArray(value)) {
    // draft-inadarei-api-health-check: one check name → several measurements; failing when any of them is.
    const states = value.map(stateOf).filter((s) => s !== undefined);
    if (states.length === 0) return undefined;
    return states.find((s) => !s.healthy) ?? { healthy: true };
  }
  if (!isObject(value)) return undefined;
  for (const key of ['status', 'state']) {
    const s = value[key];
    if (typeof s === 'boolean') return { healthy: s, word: String(s) };
    if (typeof s === 'string')
      return { healthy: HEALTHY.has(s.trim().toLowerCase()), word: STATUS_WORD.test(s) ? s : undefined };
  }
  for (const key of ['healthy', 'ok']) {
    const s = value[key];
    if (typeof s === 'boolean') return { healthy: s };
  }
  return undefined;
}

function nameOf(item: Record<string, unknown>): string | undefined {
  for (const key of ['name', 'id', 'componentId', 'component']) {
    const v = item[key];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\p{Cc}\s]+/gu, ' ').trim() || '(unnamed)';
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
