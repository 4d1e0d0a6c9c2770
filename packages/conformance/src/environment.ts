/**
 * Which environments a test run must cover. Off CI, a backend whose environment is
 * missing (no GPU adapter, no Chromium, no native `gl`) is skipped with its reason; CI
 * sets `RECTIFY_REQUIRE_ALL_BACKENDS=1` so that the same missing piece fails instead, since
 * a skipped GPU suite on CI would mean the code a GPU user runs was never tested.
 */

/** The variable `.ci/run` sets to turn every "skipped: not available here" into a failure. */
export const REQUIRE_ALL_BACKENDS_VARIABLE = 'RECTIFY_REQUIRE_ALL_BACKENDS';

/** True when this run must not skip any backend (CI). */
export function everyBackendRequired(env: Readonly<Record<string, string | undefined>> | undefined = nodeEnv()): boolean {
  return env?.[REQUIRE_ALL_BACKENDS_VARIABLE] === '1';
}

/** `process.env` in Node; `undefined` in a browser page, which has no `process`. */
function nodeEnv(): Readonly<Record<string, string | undefined>> | undefined {
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
}
