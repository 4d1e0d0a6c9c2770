import { RAdam } from '@rectify/core';
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from '@rectify/core/node';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/index.js';

const SIZE = 2_000_000; // ~21 MB of JSON: long enough to be killed mid-write

function trained(steps: number, size = SIZE): RAdam<ReturnType<typeof cpuBackend>> {
  const opt = new RAdam(cpuBackend(), { lr: 0.01 });
  const w = new Float32Array(size).fill(0.5);
  opt.registerTrainableWeights({ w });
  const g = new Float32Array(size);
  for (let s = 0; s < steps; s++) {
    g.fill(0.1 * (s + 1));
    opt.step({ w: g });
  }
  return opt;
}

/** A child process that writes a new checkpoint in an endless loop, one epoch each. */
const WRITER = `
import { RAdam } from '${new URL('../node_modules/@rectify/core/dist/index.js', import.meta.url).href}';
import { saveCheckpoint } from '${new URL('../node_modules/@rectify/core/dist/node/index.js', import.meta.url).href}';
import { cpuBackend } from '${new URL('../dist/index.js', import.meta.url).href}';
const [path, size] = process.argv.slice(2);
const opt = new RAdam(cpuBackend(), { lr: 0.01 });
opt.registerTrainableWeights({ w: new Float32Array(Number(size)).fill(0.5) });
for (let epoch = 1; ; epoch++) {
  opt.step({ w: new Float32Array(Number(size)).fill(-0.2) });
  await saveCheckpoint(path, opt, { epoch });
}
`;

const temporaries = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

/**
 * Starts the writer and kills it `delayMs` after a temporary file of its own shows up:
 * inside a write. Returns whether one of its temporary files was left behind (the evidence
 * that the kill landed inside a write; the next save deletes it).
 */
async function killMidWrite(script: string, dir: string, path: string, delayMs: number): Promise<boolean> {
  const before = new Set(temporaries(dir)); // a killed writer's leftovers, swept by the next save
  const child = spawn(process.execPath, [script, path, String(SIZE)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 60_000;
  while (!temporaries(dir).some((f) => !before.has(f)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  await exited;
  return temporaries(dir).some((f) => !before.has(f));
}

describe('checkpoints (Node)', () => {
  it('round-trip the optimizer state and the extra data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rectify-ckpt-'));
    const path = join(dir, 'opt.json');
    const source = trained(3, 10);
    await saveCheckpoint(path, source, { epoch: 3 });
    const target = trained(0, 10);
    expect(await loadCheckpoint<{ epoch: number }>(path, target)).toEqual({ epoch: 3 });
    expect(target.stepCount).toBe(3);
    expect(Array.from(target.readState('w').secondMoment)).toEqual(Array.from(source.readState('w').secondMoment));
  });

  it('rejects a truncated file and leaves the optimizer unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rectify-ckpt-'));
    const path = join(dir, 'opt.json');
    await saveCheckpoint(path, trained(2, 10));
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 300));
    const target = trained(1, 10);
    const before = Array.from(target.readState('w').firstMoment);
    await expect(loadCheckpoint(path, target)).rejects.toMatchObject({ code: 'INVALID_STATE_DICT' });
    expect(Array.from(target.readState('w').firstMoment)).toEqual(before);
    expect(target.stepCount).toBe(1);
  });

  it('survives a process killed mid-write: the previous checkpoint still loads', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rectify-ckpt-'));
    const path = join(dir, 'opt.json');
    const script = join(dir, 'writer.mjs');
    writeFileSync(script, WRITER);
    await saveCheckpoint(path, trained(1), { epoch: 0 });

    let interruptedWrites = 0;
    for (const delayMs of [0, 5, 15, 30]) {
      if (await killMidWrite(script, dir, path, delayMs)) interruptedWrites++;
      const checkpoint = await readCheckpoint<{ epoch: number }>(path);
      const target = trained(0);
      await loadCheckpoint(path, target);
      expect(target.readState('w').step).toBe(checkpoint!.extra!.epoch === 0 ? 1 : checkpoint!.extra!.epoch);
    }
    expect(interruptedWrites).toBeGreaterThan(0);
    // The next save sweeps what the killed writers left.
    await saveCheckpoint(path, trained(1, SIZE), { epoch: 0 });
    expect(temporaries(dir)).toEqual([]);
  });
});
