import { loadGoldenFile } from './golden-files.js';
import { isRadamCase } from './goldens.js';
import { replayRadamCase, replaySchedulerCase, type BackendFactory } from './replay.js';

/** Named backends the replay CLI can run, e.g. `{ cpu: () => cpuBackend() }`. */
export type BackendRegistry = Readonly<Record<string, BackendFactory>>;

const USAGE = 'usage: conformance replay --backend <name> <cases.json>';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The replay command: `replay --backend <name> <cases.json>`. Writes one JSON object to
 * `write` (stdout by default):
 * - RAdam files: `{ cases: [ { name, trajectory, finalState } ] }`;
 * - scheduler files: `{ cases: [ { name, lrs } ] }`.
 * A case that cannot run gets `{ name, error }` instead, and the command still succeeds.
 *
 * @returns the process exit code: `0` once the object is printed, `2` for a usage error.
 */
export async function runReplayCli(
  argv: readonly string[],
  backends: BackendRegistry,
  write: (text: string) => void = (text) => process.stdout.write(text),
  warn: (text: string) => void = (text) => process.stderr.write(text),
): Promise<number> {
  const [command, ...rest] = argv;
  let backendName: string | undefined;
  let file: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--backend') backendName = rest[++i];
    else if (arg.startsWith('--backend=')) backendName = arg.slice('--backend='.length);
    else file = arg;
  }
  if (command !== 'replay' || backendName === undefined || file === undefined) {
    warn(`${USAGE}\nbackends: ${Object.keys(backends).join(', ')}\n`);
    return 2;
  }
  const createBackend = backends[backendName];
  if (createBackend === undefined) {
    warn(`unknown backend "${backendName}"; known: ${Object.keys(backends).join(', ')}\n`);
    return 2;
  }
  let cases;
  try {
    cases = loadGoldenFile(file).cases;
  } catch (error) {
    warn(`${message(error)}\n`);
    return 2;
  }
  const results: object[] = [];
  for (const testCase of cases) {
    try {
      if (isRadamCase(testCase)) {
        const { name, trajectory, finalState } = await replayRadamCase(testCase, createBackend);
        results.push({ name, trajectory, finalState });
      } else {
        results.push(replaySchedulerCase(testCase));
      }
    } catch (error) {
      results.push({ name: testCase.name, error: message(error) });
    }
  }
  write(`${JSON.stringify({ cases: results })}\n`);
  return 0;
}
