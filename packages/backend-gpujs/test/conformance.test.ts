import { cpuBackend } from '@rectify/backend-cpu';
import { describeBackendConformance } from '@rectify/conformance/vitest';
import { describe, it } from 'vitest';
import { GPUJS_MODES, createGpujsBackend } from '../src/index.js';
import { whyUnavailable } from './helpers/platform.js';

// Golden replays at SPEC.md's float32 tolerance, with state moved to and from the
// float64 CPU reference mid-run. One suite per mode that runs here, plus 'gpujs' (auto).
const reference = () => cpuBackend({ dtype: 'float64' });
const options = { referenceBackend: reference, timeout: 60_000 };

describeBackendConformance('gpujs', () => createGpujsBackend(), options);

for (const mode of GPUJS_MODES) {
  const name = `gpujs-${mode}`;
  const reason = whyUnavailable(mode);
  if (reason === undefined) {
    describeBackendConformance(name, () => createGpujsBackend({ mode }), options);
  } else {
    // Never dropped silently: the reason is printed and the skipped suite carries it.
    console.warn(`[${name}] conformance skipped: ${reason}`);
    describe.skip(`${name}: conformance`, () => {
      it(`skipped: ${reason}`, () => undefined);
    });
  }
}
