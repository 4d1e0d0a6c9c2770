/**
 * Gives the page the one environment variable the suite reads (`everyBackendRequired()`
 * looks at `process.env`, which a page lacks), with the value the vitest process had.
 */
import { REQUIRE_ALL_BACKENDS_VARIABLE } from '@rectify/conformance/portable';

declare const __RECTIFY_REQUIRE_ALL_BACKENDS__: string;

const host = globalThis as { process?: { env?: Record<string, string | undefined> } };
host.process ??= {};
host.process.env ??= {};
host.process.env[REQUIRE_ALL_BACKENDS_VARIABLE] = __RECTIFY_REQUIRE_ALL_BACKENDS__;
