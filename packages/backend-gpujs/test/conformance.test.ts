import { cpuBackend } from '@rectify/backend-cpu';
import { describeBackendConformance, describeUnavailable } from '@rectify/conformance/vitest';
import { describe, it } from 'vitest';
import { GPUJS_MODES, createGpujsBackend } from '../src/index.js';
import { BROWSER_ONLY, isSoftware, whyUnavailable } from './helpers/platform.js';

// Golden replays at SPEC.md's float32 tolerance, with state moved to and from the
// float64 CPU reference mid-run. One suite per mode that runs here, plus 'gpujs' (auto).
const reference = () => cpuBackend({ dtype: 'float64' });
// Generous: a 2-core CI machine shared with other packages' tests runs webasm's 200-run
// properties in 10–55 s.
const options = { referenceBackend: reference, timeout: 120_000 };
/**
 * Random runs per property on a software GPU (SwiftShader, llvmpipe): each run compiles
 * fresh kernels on a fresh backend, which a software GPU makes slow. Every golden case
 * still runs in full; the properties keep 200 runs on webasm and cpu, which execute the
 * same transpiled kernels' logic.
 */
const SOFTWARE_PROPERTY_RUNS = 12;

/**
 * Random runs per property of the `gpujs` (auto) suite: auto resolves to one of the modes
 * below, whose own suite runs the properties in full.
 */
const AUTO_PROPERTY_RUNS = 20;

describeBackendConformance('gpujs', () => createGpujsBackend(), { ...options, propertyRuns: AUTO_PROPERTY_RUNS });

for (const mode of GPUJS_MODES) {
  const name = `gpujs-${mode}`;
  const reason = whyUnavailable(mode);
  if (reason === undefined) {
    const propertyRuns = isSoftware(mode) ? SOFTWARE_PROPERTY_RUNS : undefined;
    describeBackendConformance(name, () => createGpujsBackend({ mode }), { ...options, propertyRuns });
  } else if (BROWSER_ONLY.includes(mode)) {
    // Not a gap of this machine: the Chromium suite (apps/example) runs these in the page.
    describe.skip(`${name}: conformance`, () => {
      it('skipped: browser only: runs in the Chromium suite', () => undefined);
    });
  } else {
    // Skipped with its reason off CI; a failing test on CI (RECTIFY_REQUIRE_ALL_BACKENDS=1).
    describeUnavailable(name, reason);
  }
}
