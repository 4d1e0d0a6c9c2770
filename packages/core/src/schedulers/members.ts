/**
 * Reading members of caller-supplied objects without letting `Object.prototype` take
 * part: a property another library added there (`Object.prototype.step = …`) must not
 * turn every plain object into a scheduler or a spec.
 *
 * @internal
 * @module
 */

/**
 * `value[key]` when `key` is defined on `value` itself or on a prototype of its own
 * (a class), `undefined` when it is only inherited from `Object.prototype` or absent.
 * The value is read once.
 */
export function member(value: object, key: string): unknown {
  let holder: object | null = value;
  while (holder !== null && holder !== Object.prototype) {
    if (Object.hasOwn(holder, key)) return (value as Record<string, unknown>)[key];
    holder = Object.getPrototypeOf(holder) as object | null;
  }
  return undefined;
}

/** `value[key]` when `key` is an own property of `value` (read once), else `undefined`. */
export function ownMember(value: object, key: string): unknown {
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}
