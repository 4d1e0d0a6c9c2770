import { RAdam, STATE_CHUNK_ELEMENTS, type HostArray } from '@rectify/core';
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from '@rectify/core/node';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/index.js';

type DTypeName = 'float32' | 'float64';

/** Core's test helper for a small real tmpfs (see core/test/checkpoint/tmpfs.ts). */
interface Tmpfs {
  readonly dir: string;
  readOnly(): void;
  unmount(): void;
}
// Imported at run time: this package's type-check keeps to its own directory (rootDir).
const { TMPFS_UNAVAILABLE, mountTmpfs } = (await import(new URL('../../core/test/checkpoint/tmpfs.ts', import.meta.url).href)) as {
  readonly TMPFS_UNAVAILABLE: string | undefined;
  readonly mountTmpfs: (sizeBytes: number) => Tmpfs;
};

// Names chosen to collide under a naive naming scheme (a suffix of another's tensor names,
// the header's reserved key, dots, non-ASCII), in two groups.
const GROUP0: [string, number][] = [
  ['embed.weight', 6],
  ['blocks.0.attn.weight', 4],
  ['blocks.0.attn.weight.exp_avg', 3],
  ['__metadata__', 2],
];
const GROUP1: [string, number][] = [
  ['norm é✓', 5],
  ['scalar', 1],
];
const NAMES = [...GROUP0, ...GROUP1].map(([name]) => name);

interface Model {
  readonly opt: RAdam<ReturnType<typeof cpuBackend>>;
  /** The parameters by name (the cpu backend updates them in place). */
  readonly params: Map<string, HostArray>;
}

/** An optimizer over the names above, parameters from `fill(parameter index, element)`. */
function model(dtype: DTypeName, fill: (i: number, j: number) => number = () => 0): Model {
  const ArrayType = dtype === 'float64' ? Float64Array : Float32Array;
  const opt = new RAdam(cpuBackend({ dtype }) as ReturnType<typeof cpuBackend>, {
    lr: { scheduler: 'StepLR', args: { baseLr: 0.05, stepSize: 2, gamma: 0.5 } },
    weightDecay: 0.01,
  });
  const params = new Map<string, HostArray>();
  const tree = (entries: [string, number][], offset: number): Record<string, HostArray> =>
    Object.fromEntries(
      entries.map(([name, size], k) => {
        const array = new ArrayType(size).map((_, j) => fill(offset + k, j));
        params.set(name, array);
        return [name, array];
      }),
    );
  opt.registerTrainableWeights(tree(GROUP0, 0));
  opt.addParamGroup(tree(GROUP1, GROUP0.length), { lr: 0.02, betas: [0.8, 0.99] });
  return { opt, params };
}

/** `steps` deterministic steps (and scheduler steps) from step `from`. */
function train({ opt, params }: Model, steps: number, from = 0): void {
  for (let s = from; s < from + steps; s++) {
    const grads: Record<string, HostArray> = {};
    [...params].forEach(([name, p], i) => {
      grads[name] = p.map((_, j) => Math.sin(1 + 7 * i + 3 * j + s) * 10 ** ((j % 3) - 1));
    });
    opt.step(grads);
    opt.scheduler!.step();
  }
}

const trained = (dtype: DTypeName = 'float32', steps = 3): Model => {
  const m = model(dtype, (i, j) => 0.1 * (i + 1) - 0.03 * j);
  train(m, steps);
  return m;
};

const bytesOf = (array: HostArray): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);
const sha256 = (array: HostArray): string => createHash('sha256').update(bytesOf(array)).digest('hex');

/** Every array of the state, by `<name>.<role>`, as bytes (bit-exact comparison, -0 and all). */
function stateBytes({ opt, params }: Model, withParams = true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of NAMES) {
    const state = opt.readState(name);
    out[`${name}.exp_avg`] = bytesOf(state.firstMoment).toString('hex');
    out[`${name}.exp_avg_sq`] = bytesOf(state.secondMoment).toString('hex');
    out[`${name}.step`] = String(state.step);
    if (withParams) out[`${name}.param`] = bytesOf(params.get(name)!).toString('hex');
  }
  return out;
}

const created: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'rectify-st-'));
  created.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});
const temporaries = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; cause?: { code?: string }; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; cause?: { code?: string }; message: string };
  }
  throw new Error('expected a rejection');
}

describe('safetensors checkpoints: round trips', () => {
  it.each(['float32', 'float64'] as const)('restore moments, parameters, steps, options and schedules bit-exactly (%s), and training resumes identically', async (dtype) => {
    const path = join(fresh(), 'opt.safetensors');
    const source = trained(dtype);
    await saveCheckpoint(path, source.opt, { epoch: 3, note: 'é' }, { includeParams: true });
    const target = model(dtype, () => 9);
    expect(await loadCheckpoint(path, target.opt)).toEqual({ epoch: 3, note: 'é' });
    expect(stateBytes(target)).toEqual(stateBytes(source));
    expect([target.opt.stepCount, target.opt.currentLr, target.opt.groupLrs]).toEqual([3, source.opt.currentLr, source.opt.groupLrs]);
    train(source, 3, 3);
    train(target, 3, 3);
    expect(stateBytes(target)).toEqual(stateBytes(source));
  });

  it('without includeParams: moments and steps load, the parameters stay as they are', async () => {
    const path = join(fresh(), 'opt.safetensors');
    const source = trained();
    await saveCheckpoint(path, source.opt);
    const target = model('float32', () => 9);
    expect(await loadCheckpoint(path, target.opt)).toBeNull();
    expect(stateBytes(target, false)).toEqual(stateBytes(source, false));
    for (const p of target.params.values()) expect(Array.from(p).every((x) => x === 9)).toBe(true);
  });

  it('the file is its header plus the raw bytes, and readCheckpoint lists it without reading tensors', async () => {
    const path = join(fresh(), 'opt.safetensors');
    const source = trained();
    await saveCheckpoint(path, source.opt, { epoch: 3 }, { includeParams: true });
    const info = await readCheckpoint<{ epoch: number }>(path);
    if (info?.container !== 'safetensors') throw new Error(`expected safetensors, got ${info?.container}`);
    expect(info.tensors.map((t) => t.key)).toEqual(NAMES.flatMap((n) => [`${n}.exp_avg`, `${n}.exp_avg_sq`, `${n}.param`]));
    expect(info.extra).toEqual({ epoch: 3 });
    expect(info.optimizer.stepCount).toBe(3);
    expect(info.optimizer.groups.map((g) => g.params)).toEqual([GROUP0.map(([n]) => n), GROUP1.map(([n]) => n)]);
    expect(Date.parse(info.savedAt)).toBeGreaterThan(Date.now() - 60_000);
    const rawBytes = [...GROUP0, ...GROUP1].reduce((sum, [, size]) => sum + 3 * 4 * size, 0);
    const first = info.tensors[0]!.begin;
    expect(first % 8).toBe(0); // data 8-byte aligned
    expect(statSync(path).size).toBe(first + rawBytes);
  });

  it('tells the containers apart by content, not by name', async () => {
    const dir = fresh();
    const source = trained();
    await saveCheckpoint(join(dir, 'a.safetensors'), source.opt, { c: 'st' }, { includeParams: true });
    await saveCheckpoint(join(dir, 'b.json'), source.opt, { c: 'json' }, { includeParams: true });
    renameSync(join(dir, 'a.safetensors'), join(dir, 'a.ckpt'));
    renameSync(join(dir, 'b.json'), join(dir, 'b.safetensors'));
    for (const [file, c] of [['a.ckpt', 'st'], ['b.safetensors', 'json']] as const) {
      const target = model('float32', () => 9);
      expect(await loadCheckpoint(join(dir, file), target.opt)).toEqual({ c });
      expect(stateBytes(target)).toEqual(stateBytes(source));
    }
  });
});

const NUMPY_READER = fileURLToPath(new URL('../../core/test/checkpoint/read_safetensors.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const HAS_NUMPY = spawnSync(PYTHON, ['-c', 'import numpy']).status === 0;
const SKIP_NUMPY = !HAS_NUMPY && !process.env.CI; // off CI a missing numpy skips; on CI it fails

describe('safetensors checkpoints: an independent NumPy reader', () => {
  it.skipIf(SKIP_NUMPY).each(['float32', 'float64'] as const)(
    `reads every tensor of a %s checkpoint equal to the optimizer's${SKIP_NUMPY ? ' (skipped: Debian python3-numpy is not installed)' : ''}`,
    async (dtype) => {
      if (!HAS_NUMPY) throw new Error(`${PYTHON} cannot import numpy: install Debian's python3-numpy (required on CI)`);
      const path = join(fresh(), 'opt.safetensors');
      const source = trained(dtype);
      await saveCheckpoint(path, source.opt, { epoch: 3 }, { includeParams: true });
      const run = spawnSync(PYTHON, [NUMPY_READER, path, '--values'], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const read = JSON.parse(run.stdout) as {
        metadata: Record<string, string>;
        tensors: { name: string; dtype: string; shape: number[]; sha256: string; values: number[] }[];
      };
      const expected = NAMES.flatMap((name) => {
        const state = source.opt.readState(name);
        return [
          [`${name}.exp_avg`, state.firstMoment],
          [`${name}.exp_avg_sq`, state.secondMoment],
          [`${name}.param`, source.params.get(name)!],
        ] as const;
      }).map(([name, array]) => ({
        name,
        dtype: dtype === 'float64' ? 'F64' : 'F32',
        shape: [array.length],
        sha256: sha256(array),
        values: Array.from(array),
      }));
      expect(read.tensors).toEqual(expected);
      expect(JSON.parse(read.metadata['rectify.state']!)).toMatchObject({ stepCount: 3, dtype, backend: dtype === 'float64' ? 'cpu64' : 'cpu' });
      expect(JSON.parse(read.metadata['rectify.extra']!)).toEqual({ epoch: 3 });
    },
  );
});

describe('safetensors checkpoints: streaming', () => {
  it('each piece is on disk before the next one is read from the backend (nothing is buffered)', async () => {
    const dir = fresh();
    const path = join(dir, 'opt.safetensors');
    const reads: [number, number, number][] = [];
    const base = cpuBackend();
    const spy = {
      ...base,
      readInto: (tensor: Float32Array, begin: number, target: Float32Array) => {
        // The data file is the largest temporary one (the other holds the commit record).
        reads.push([Math.max(0, ...temporaries(dir).map((f) => statSync(join(dir, f)).size)), begin, target.length]);
        base.readInto!(tensor, begin, target);
      },
    };
    const opt = new RAdam(spy, { lr: 0.01 });
    // `a` is larger than a piece (STATE_CHUNK_ELEMENTS): it streams in three.
    const big = 2 * STATE_CHUNK_ELEMENTS + 5;
    const params = { a: new Float32Array(big).fill(1), b: new Float32Array(3).fill(2), c: new Float32Array(500).fill(3) };
    opt.registerTrainableWeights(params);
    opt.step({ a: new Float32Array(big).fill(0.5), b: new Float32Array(3).fill(-1), c: new Float32Array(500).fill(2) });
    await saveCheckpoint(path, opt, undefined, { includeParams: true });
    const info = await readCheckpoint(path);
    if (info?.container !== 'safetensors') throw new Error('expected safetensors');
    const pieces = (t: { begin: number; end: number }): [number, number, number][] => {
      const n = (t.end - t.begin) / 4;
      const out: [number, number, number][] = [];
      for (let at = 0; at < n; at += STATE_CHUNK_ELEMENTS) out.push([t.begin + at * 4, at, Math.min(STATE_CHUNK_ELEMENTS, n - at)]);
      return out;
    };
    // Before reading a piece, the file holds the header and every earlier piece: their bytes.
    expect(reads).toEqual(info.tensors.flatMap(pieces));
    expect(reads.filter(([, , n]) => n > STATE_CHUNK_ELEMENTS)).toEqual([]);
    const target = sized({ a: big, b: 3, c: 500 }, 9);
    await loadCheckpoint(path, target.opt);
    expect(digests(target)).toEqual(digests({ opt, params }));
  });

  it('a parameter with no elements saves and loads (one empty piece)', async () => {
    const path = join(fresh(), 'opt.safetensors');
    const source = sized({ e: 0, w: 4 }, 1);
    source.opt.step({ e: new Float32Array(0), w: new Float32Array(4).fill(0.25) });
    await saveCheckpoint(path, source.opt, undefined, { includeParams: true });
    const info = await readCheckpoint(path);
    if (info?.container !== 'safetensors') throw new Error('expected safetensors');
    expect(info.tensors.map((t) => [t.key, t.end - t.begin])).toEqual([
      ['e.exp_avg', 0], ['e.exp_avg_sq', 0], ['e.param', 0], ['w.exp_avg', 16], ['w.exp_avg_sq', 16], ['w.param', 16],
    ]);
    const target = sized({ e: 0, w: 4 }, 7);
    await loadCheckpoint(path, target.opt);
    expect(digests(target)).toEqual(digests(source));
    expect(target.opt.readState('w').step).toBe(1);
  });
});

/** An optimizer over float32 parameters of the given sizes, all `fill`. */
function sized(sizes: Record<string, number>, fill: number): { opt: RAdam<ReturnType<typeof cpuBackend>>; params: Record<string, Float32Array> } {
  const opt = new RAdam(cpuBackend(), { lr: 0.01 });
  const params = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, new Float32Array(size).fill(fill)]));
  opt.registerTrainableWeights(params);
  return { opt, params };
}

/** SHA-256 of every parameter and moment, and every step count. */
function digests({ opt, params }: { opt: RAdam<ReturnType<typeof cpuBackend>>; params: Record<string, Float32Array> }): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params).flatMap(([name, param]) => {
      const state = opt.readState(name);
      return [
        [`${name}.param`, sha256(param)],
        [`${name}.exp_avg`, sha256(state.firstMoment)],
        [`${name}.exp_avg_sq`, sha256(state.secondMoment)],
        [`${name}.step`, String(state.step)],
      ];
    }),
  );
}

describe('safetensors checkpoints: damaged files and wrong optimizers', () => {
  /** Saves a trained optimizer, damages the file, and expects `code` from loading it into an unchanged optimizer. */
  async function expectRejected(damage: (bytes: Buffer, info: { begin: (key: string) => number }) => Buffer, code: string, message: RegExp): Promise<void> {
    const path = join(fresh(), 'opt.safetensors');
    await saveCheckpoint(path, trained().opt, null, { includeParams: true });
    const info = await readCheckpoint(path);
    if (info?.container !== 'safetensors') throw new Error('expected safetensors');
    const begin = (key: string): number => info.tensors.find((t) => t.key === key)!.begin;
    writeFileSync(path, damage(readFileSync(path), { begin }));
    const target = trained('float32', 1);
    const before = stateBytes(target);
    const error = await rejection(loadCheckpoint(path, target.opt));
    expect(error).toMatchObject({ code });
    expect(error.message).toMatch(message);
    expect(stateBytes(target)).toEqual(before);
    expect(target.opt.stepCount).toBe(1);
  }

  it('a truncated file', () => expectRejected((b) => b.subarray(0, b.length - 4), 'INVALID_STATE_DICT', /truncated/));
  it('a file cut inside its header', () => expectRejected((b) => b.subarray(0, 100), 'INVALID_STATE_DICT', /truncated/));
  it('a damaged header', () => expectRejected((b) => { b[8 + 20] = 0x7d; return b; }, 'INVALID_STATE_DICT', /not valid JSON|Invalid/));
  it('a negative second moment in the middle (checked before anything is written)', () =>
    expectRejected((b, { begin }) => { b.writeFloatLE(-1, begin('__metadata__.exp_avg_sq')); return b; }, 'INVALID_STATE_DICT', /__metadata__\.secondMoment\[0\] is -1/));
  it('a NaN in the last tensor', () =>
    expectRejected((b, { begin }) => { b.writeFloatLE(Number.NaN, begin('scalar.param')); return b; }, 'INVALID_STATE_DICT', /scalar\.param\[0\] is NaN/));

  it("another optimizer's parameters", async () => {
    const path = join(fresh(), 'opt.safetensors');
    await saveCheckpoint(path, trained().opt);
    const other = new RAdam(cpuBackend(), { lr: 0.01 });
    other.registerTrainableWeights({ w: new Float32Array(6) });
    expect(await rejection(loadCheckpoint(path, other))).toMatchObject({ code: 'INVALID_STATE_DICT' });
  });
});

describe('safetensors checkpoints: files that are not there, or cannot be', () => {
  it('a missing file loads as null and changes nothing (resume or start)', async () => {
    const dir = fresh();
    const target = trained('float32', 1);
    const before = stateBytes(target);
    expect(await loadCheckpoint(join(dir, 'opt.safetensors'), target.opt)).toBeNull();
    expect(await loadCheckpoint(join(dir, 'no-dir', 'opt.safetensors'), target.opt)).toBeNull();
    expect(await readCheckpoint(join(dir, 'opt.safetensors'))).toBeNull();
    expect(stateBytes(target)).toEqual(before);
  });

  it('a directory in place of the file: CHECKPOINT_IO on save and load', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'opt.safetensors'));
    const source = trained();
    expect(await rejection(saveCheckpoint(join(dir, 'opt.safetensors'), source.opt))).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'EISDIR' } });
    expect(await rejection(loadCheckpoint(join(dir, 'opt.safetensors'), source.opt))).toMatchObject({ code: 'CHECKPOINT_IO' });
    expect(readdirSync(dir)).toEqual(['opt.safetensors']);
  });

  it('a missing parent directory: CHECKPOINT_IO, nothing created', async () => {
    const dir = fresh();
    expect(await rejection(saveCheckpoint(join(dir, 'runs', 'opt.safetensors'), trained().opt))).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'ENOENT' } });
    expect(readdirSync(dir)).toEqual([]);
  });

  describe.skipIf(TMPFS_UNAVAILABLE !== undefined)(`on a real small tmpfs${TMPFS_UNAVAILABLE === undefined ? '' : ` (skipped: ${TMPFS_UNAVAILABLE})`}`, () => {
    let fs: Tmpfs | undefined;
    afterEach(() => {
      fs?.unmount();
      fs = undefined;
    });

    /** An optimizer whose checkpoint (with parameters) is about `megabytes` MB. */
    const big = (megabytes: number): Model => {
      const opt = new RAdam(cpuBackend(), { lr: 0.01 });
      const w = new Float32Array((megabytes * 1e6) / 12).fill(0.25);
      opt.registerTrainableWeights({ w });
      opt.step({ w: new Float32Array(w.length).fill(0.5) });
      return { opt, params: new Map([['w', w]]) };
    };

    it('a disk that fills up mid-stream (ENOSPC): the previous checkpoint loads, no temporary file is left', async () => {
      fs = mountTmpfs(4 << 20);
      const path = join(fs.dir, 'opt.safetensors');
      const source = trained();
      await saveCheckpoint(path, source.opt, { epoch: 3 }, { includeParams: true });
      const error = await rejection(saveCheckpoint(path, big(6).opt, { epoch: 4 }, { includeParams: true }));
      expect(error).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'ENOSPC' } });
      expect(temporaries(fs.dir)).toEqual([]);
      const target = model('float32', () => 9);
      expect(await loadCheckpoint(path, target.opt)).toEqual({ epoch: 3 });
      expect(stateBytes(target)).toEqual(stateBytes(source));
      // The failed file's space was given back: a checkpoint of 3 MB (of 4) fits now.
      await saveCheckpoint(path, big(3).opt, null, { includeParams: true });
    });

    it('a read-only file system (EROFS): the previous checkpoint loads', async () => {
      fs = mountTmpfs(1 << 20);
      const path = join(fs.dir, 'opt.safetensors');
      const source = trained();
      await saveCheckpoint(path, source.opt, { epoch: 3 }, { includeParams: true });
      fs.readOnly();
      expect(await rejection(saveCheckpoint(path, trained('float32', 5).opt))).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'EROFS' } });
      const target = model('float32', () => 9);
      expect(await loadCheckpoint(path, target.opt)).toEqual({ epoch: 3 });
      expect(stateBytes(target)).toEqual(stateBytes(source));
    });
  });
});

describe('safetensors checkpoints: overlapping saves', () => {
  it('save the state as of the call; on a synchronous backend a step during the save is refused', async () => {
    const path = join(fresh(), 'opt.safetensors');
    const source = trained();
    const before = stateBytes(source);
    const saving = saveCheckpoint(path, source.opt, null, { includeParams: true });
    // A synchronous step cannot queue behind the stream (its result would become a
    // promise, and the caller's gradient buffers would change under it): it is refused.
    expect(() => train(source, 1, 3)).toThrow(expect.objectContaining({ code: 'STEP_IN_PROGRESS' }));
    await saving;
    expect(stateBytes(source)).toEqual(before);
    const target = model('float32', () => 9);
    await loadCheckpoint(path, target.opt);
    expect(stateBytes(target)).toEqual(before);
    train(source, 1, 3); // and once the save is done, training goes on
    expect(stateBytes(source)).not.toEqual(before);
  });

  it('end with the save called last, although an earlier, bigger one finishes later', async () => {
    const path = join(fresh(), 'opt.safetensors');
    const large = new RAdam(cpuBackend(), { lr: 0.01 });
    large.registerTrainableWeights({ w: new Float32Array(4_000_000).fill(1) });
    const small = trained();
    const saves = [
      saveCheckpoint(path, large, { which: 'large' }, { includeParams: true }),
      saveCheckpoint(path, small.opt, { which: 'small' }, { includeParams: true }),
    ];
    await Promise.all(saves);
    const target = model('float32', () => 9);
    expect(await loadCheckpoint(path, target.opt)).toEqual({ which: 'small' });
    expect(stateBytes(target)).toEqual(stateBytes(small));
    expect(temporaries(join(path, '..'))).toEqual([]);
  });
});

/** A child process that resumes from the checkpoint (if any) and saves one new version per step, forever. */
const WRITER = `
import { RAdam } from '${new URL('../node_modules/@rectify/core/dist/index.js', import.meta.url).href}';
import { loadCheckpoint, saveCheckpoint } from '${new URL('../node_modules/@rectify/core/dist/node/index.js', import.meta.url).href}';
import { cpuBackend } from '${new URL('../dist/index.js', import.meta.url).href}';
const [path, size] = process.argv.slice(2);
const w = new Float32Array(Number(size)).fill(0.5);
const opt = new RAdam(cpuBackend(), { lr: 0.01 });
opt.registerTrainableWeights({ w });
const saved = await loadCheckpoint(path, opt);
process.stdout.write('ready\\n');
for (let version = (saved?.version ?? 0) + 1; ; version++) {
  opt.step({ w: new Float32Array(w.length).fill(Math.sin(version)) });
  await saveCheckpoint(path, opt, { version }, { includeParams: true });
}
`;

describe('safetensors checkpoints: a writer killed at random points', () => {
  it('always leaves a file that loads and equals one of the versions saved', { timeout: 180_000 }, async () => {
    const SIZE = 1_000_000; // 12 MB files
    const dir = fresh();
    const path = join(dir, 'opt.safetensors');
    const script = join(dir, 'writer.mjs');
    writeFileSync(script, WRITER);
    /** Version `v` of the writer's state, recomputed here. */
    const replay = (version: number): Model => {
      const w = new Float32Array(SIZE).fill(0.5);
      const opt = new RAdam(cpuBackend(), { lr: 0.01 });
      opt.registerTrainableWeights({ w });
      for (let v = 1; v <= version; v++) opt.step({ w: new Float32Array(SIZE).fill(Math.sin(v)) });
      return { opt, params: new Map([['w', w]]) };
    };
    let last = 0;
    let insideWrites = 0;
    for (let kill = 0; kill < 8; kill++) {
      const leftovers = new Set(temporaries(dir));
      const child = spawn(process.execPath, [script, path, String(SIZE)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await Promise.race([new Promise((resolve) => child.stdout.once('data', resolve)), exited]); // resumed: saving from now on
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300)); // a few saves' time
      child.kill('SIGKILL');
      await exited;
      if (temporaries(dir).some((f) => !leftovers.has(f))) insideWrites++; // it died inside a save
      const w = new Float32Array(SIZE);
      const target = new RAdam(cpuBackend(), { lr: 0.01 });
      target.registerTrainableWeights({ w });
      const saved = await loadCheckpoint<{ version: number }>(path, target);
      const version = saved?.version ?? 0;
      expect(version).toBeGreaterThanOrEqual(last); // a resumed writer never goes back
      if (version > 0) {
        const expected = replay(version);
        expect(bytesOf(w).equals(bytesOf(expected.params.get('w')!))).toBe(true);
        const [m, e] = [target.readState('w'), expected.opt.readState('w')];
        expect(bytesOf(m.firstMoment).equals(bytesOf(e.firstMoment)) && bytesOf(m.secondMoment).equals(bytesOf(e.secondMoment))).toBe(true);
        expect(m.step).toBe(version);
      }
      last = version;
    }
    expect(last).toBeGreaterThan(0);
    expect(insideWrites).toBeGreaterThan(0);
    expect(temporaries(dir).length).toBeLessThanOrEqual(2); // only the last writer's leftovers, if any
  });
});
