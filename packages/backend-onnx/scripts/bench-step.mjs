// Median time of one full RAdam step of the ONNX backend over the parameter shapes of real
// models, with PyTorch's RAdam(foreach=True) timed on the same shapes in the same run when a
// Python with torch is found. Not a test, not on CI: run it by hand after `pnpm build`.
//
//   node scripts/bench-step.mjs [--workloads gpt2,resnet50,tiny] [--threads 2]
//     [--warmup 6] [--rounds 5] [--chunk N] [--no-torch] [--json] [--baseline DIR]
//
// --baseline DIR: also time the onnxBackend of another build of this package (a copy of an
// older dist/, e.g. `git worktree add` + build), in the same process, for before/after.
//
// Backend tensors (`backend.fromArray`), lr 1e-3, `nonFinite: 'propagate'`. The first
// warm-up steps are the unrectified ones (RAdam rectifies from step 6 on with the default
// betas), so the measured steps are rectified in both libraries.
import { spawnSync } from 'node:child_process';
import { RAdam } from '@rectify/core';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { onnxBackend } from '../dist/index.js';

/** GPT-2 small: 148 tensors, 124.4M parameters. */
function gpt2() {
  const block = [[768], [768], [768, 2304], [2304], [768, 768], [768], [768], [768], [768, 3072], [3072], [3072, 768], [768]];
  return [[50257, 768], [1024, 768], ...Array.from({ length: 12 }, () => block).flat(), [768], [768]];
}

/** torchvision's ResNet-50: 161 tensors, 25.6M parameters. */
function resnet50() {
  const shapes = [[64, 3, 7, 7], [64], [64]];
  let inC = 64;
  for (const [width, blocks] of [[64, 3], [128, 4], [256, 6], [512, 3]]) {
    for (let b = 0; b < blocks; b++) {
      shapes.push([width, inC, 1, 1], [width], [width], [width, width, 3, 3], [width], [width], [width * 4, width, 1, 1], [width * 4], [width * 4]);
      if (b === 0) shapes.push([width * 4, inC, 1, 1], [width * 4], [width * 4]);
      inC = width * 4;
    }
  }
  shapes.push([1000, 2048], [1000]);
  return shapes;
}

const WORKLOADS = {
  gpt2: { label: 'GPT-2 small', shapes: gpt2 },
  resnet50: { label: 'ResNet-50', shapes: resnet50 },
  tiny: { label: '1000 x 10', shapes: () => Array.from({ length: 1000 }, () => [10]) },
};

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const flag = (name) => process.argv.includes(`--${name}`);
const threads = Number(arg('threads', '2'));
const warmup = Number(arg('warmup', '6'));
const rounds = Number(arg('rounds', '5'));
const chunk = arg('chunk', undefined);
const names = arg('workloads', 'gpt2,resnet50,tiny').split(',');

const size = (shape) => shape.reduce((a, b) => a * b, 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Deterministic values in (−scale, scale): an LCG, filled in place. */
function fill(array, seed, scale) {
  let x = seed >>> 0;
  for (let i = 0; i < array.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    array[i] = (x / 4294967296 - 0.5) * 2 * scale;
  }
  return array;
}

/** An optimizer over `shapes` on a backend from `makeBackend`: its `step()` and `dispose()`. */
async function setupOnnx(shapes, makeBackend) {
  const backend = makeBackend({ intraOpNumThreads: threads, ...(chunk ? { chunkSize: Number(chunk) } : {}) });
  const params = {};
  const grads = {};
  shapes.forEach((shape, i) => {
    const n = size(shape);
    params[`p${i}`] = backend.fromArray(fill(new Float32Array(n), i + 1, 1), shape);
    grads[`p${i}`] = backend.fromArray(fill(new Float32Array(n), i + 7919, 1e-2), shape);
  });
  const opt = new RAdam(backend, { lr: 1e-3, nonFinite: 'propagate' });
  opt.registerTrainableWeights(params);
  await backend.ready();
  return { step: () => opt.step(grads), dispose: () => backend.dispose() };
}

/**
 * Median step ms of each backend factory over `shapes`. With several, their steps alternate
 * (one step of each per round), so a machine whose load changes treats them alike.
 */
async function timeOnnx(shapes, factories) {
  const runs = [];
  for (const make of factories) runs.push(await setupOnnx(shapes, make));
  const times = runs.map(() => []);
  for (let r = 0; r < warmup + rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const start = performance.now();
      await runs[k].step();
      if (r >= warmup) times[k].push(performance.now() - start);
    }
  }
  for (const run of runs) run.dispose();
  return times.map(median);
}

const TORCH_SCRIPT = `
import json, sys, time, torch
shapes, threads, warmup, rounds = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
gen = torch.Generator().manual_seed(0)
params = [torch.nn.Parameter(torch.rand(s, generator=gen) * 2 - 1) for s in shapes]
for p in params: p.grad = (torch.rand(p.shape, generator=gen) * 2 - 1) * 1e-2
opt = torch.optim.RAdam(params, lr=1e-3, foreach=True)
times = []
for r in range(warmup + rounds):
    t = time.perf_counter(); opt.step(); dt = (time.perf_counter() - t) * 1e3
    if r >= warmup: times.append(dt)
print(json.dumps(sorted(times)[len(times) // 2]))
`;

/** The first of $RECTIFY_PYTHON, python3, /usr/bin/python3 that imports torch, or undefined. */
function torchPython() {
  for (const py of [process.env.RECTIFY_PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

function timeTorch(py, shapes) {
  const run = spawnSync(py, ['-c', TORCH_SCRIPT, JSON.stringify(shapes), String(threads), String(warmup), String(rounds)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`torch failed: ${run.stderr}`);
  return Number(run.stdout.trim());
}

const baselineDir = arg('baseline', undefined);
const baseline = baselineDir === undefined ? undefined : (await import(pathToFileURL(path.resolve(baselineDir, 'index.js')).href)).onnxBackend;
const py = flag('no-torch') ? undefined : torchPython();
const results = [];
for (const name of names) {
  const workload = WORKLOADS[name];
  if (!workload) throw new Error(`unknown workload ${name}`);
  const shapes = workload.shapes();
  const [onnx, before] = await timeOnnx(shapes, baseline ? [onnxBackend, baseline] : [onnxBackend]);
  const torch = py ? timeTorch(py, shapes) : undefined;
  results.push({ workload: name, tensors: shapes.length, elements: shapes.reduce((a, s) => a + size(s), 0), baselineMs: before, onnxMs: onnx, torchMs: torch });
}
if (flag('json')) console.log(JSON.stringify({ threads, warmup, rounds, results }, null, 2));
else {
  console.log(`threads ${threads}, median of ${rounds} steps after ${warmup} warm-up${py ? `, torch from ${py}` : ', no torch'}`);
  for (const r of results) {
    const ratio = r.torchMs === undefined ? '' : `  torch ${r.torchMs.toFixed(2)} ms  onnx/torch ${(r.onnxMs / r.torchMs).toFixed(2)}`;
    const base = r.baselineMs === undefined ? '' : `  baseline ${r.baselineMs.toFixed(2)} ms${r.torchMs === undefined ? '' : ` (/torch ${(r.baselineMs / r.torchMs).toFixed(2)})`}`;
    console.log(`${WORKLOADS[r.workload].label.padEnd(12)} ${String(r.tensors).padStart(5)} tensors ${(r.elements / 1e6).toFixed(1).padStart(6)}M  onnx ${r.onnxMs.toFixed(2)} ms${ratio}${base}`);
  }
}
