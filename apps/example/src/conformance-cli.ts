/**
 * `pnpm --silent conformance replay --backend <name> <cases.json>`: replays golden files
 * on any backend this repository ships and prints the result as one JSON object.
 */
import { backendFactories } from '@rectify/all-backends';
import { runReplayCli } from '@rectify/conformance';

process.exitCode = await runReplayCli(process.argv.slice(2), backendFactories());
