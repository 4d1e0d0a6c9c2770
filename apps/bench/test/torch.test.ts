import { describe, expect, it } from 'vitest';
import { findTorch, runTorch } from '../src/torch.js';

const torch = await findTorch();
const reason = 'unavailable' in torch ? torch.unavailable : undefined;

// CI has no torch: this runs where a Python with torch exists (Debian's python3-torch here).
describe.skipIf(reason !== undefined)(`torch side by side${reason === undefined ? '' : ` (skipped: ${reason})`}`, () => {
  it('runs torch.optim.RAdam over the given shapes on the given threads and reports one JSON line', { timeout: 120_000 }, async () => {
    const found = torch as { python: string; version: string };
    const report = await runTorch(found.python, [10, 1000, 37], 1, false, 10);
    expect(report).toMatchObject({ torch: found.version, threads: 1, foreach: false });
    expect(report.samples).toBeGreaterThanOrEqual(5);
    expect(report.msPerStep).toBeGreaterThan(0);
    expect(report.peakExtraBytes).toBeGreaterThan(0);
  });
});
