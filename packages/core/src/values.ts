/**
 * Small helpers for validating and describing untrusted input, shared by options,
 * parameter records and scheduler arguments.
 *
 * @internal
 * @module
 */

/** Renders any value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    const shown = value.slice(0, 6).map(describeValue).join(', ');
    return `[${shown}${value.length > 6 ? ', …' : ''}]`;
  }
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * `true` for a plain `{...}` object: not null, not an array, not a class instance (a
 * tensor of another library must never be mistaken for a record of named values).
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function levenshtein(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = previous[j] ?? 0;
      const left = previous[j - 1] ?? 0;
      previous[j] = Math.min(above + 1, left + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** `base_lr → baseLr`, `T_max → tMax`, `T_0 → t0`. */
function snakeToCamel(name: string): string {
  const camel = name.replace(/_+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase());
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/**
 * The closest known name to `name`, if one is close enough to be a likely typo: the
 * camelCase spelling of a snake_case name, a case-insensitive match, or a name within a
 * small edit distance.
 */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  const camel = snakeToCamel(name);
  const exact = known.find((k) => k === camel) ?? known.find((k) => k.toLowerCase() === camel.toLowerCase());
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = levenshtein(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  return bestDistance <= limit ? best : undefined;
}
