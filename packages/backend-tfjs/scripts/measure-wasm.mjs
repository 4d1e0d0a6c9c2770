#!/usr/bin/env node
// Measures one RAdam step on tfjs' wasm backend against tfjs' own Adam and PyTorch's
// RAdam(foreach=True), on real models' parameter shapes: milliseconds per step (median)
// and peak memory per parameter. Every measurement runs in a child process of its own, so
// that peak RSS belongs to it alone. Ratios are meaningful within one run only.
//
//   node scripts/measure-wasm.mjs [--workloads gpt2,resnet50,tiny,single1m]
//        [--runs rectify,rectify-propagate,rectify-graph,adam,torch] [--threads 2] [--steps N]
//        [--rounds N]
//
// rectify: tfjsBackend() with core's RAdam, default options (nonFinite 'error');
// rectify-propagate: nonFinite 'propagate'; rectify-graph: fusedKernel false, the stock-op
// graph (what tfjs-wasm ran before it had Rectify's kernel); adam: tf.train.adam; torch:
// torch.optim.RAdam(foreach=True) with torch.set_num_threads(threads). tfjs-wasm itself
// runs on one thread in Node (tfjs turns its threads off there).
//
// CPU ms/step (process CPU time, all threads) is the steadier figure on a loaded machine;
// for torch on 2 threads it counts both. Needs the package built (`dist/`). Bytes per parameter: (peak RSS while the optimizer
// is built and steps) − (RSS before the parameters existed), over the parameter count;
// p, g, m, v in float32 are 16 bytes of it. The peak is reset (/proc/self/clear_refs) once
// parameters and gradients exist, so that their creation's transient JS copies do not
// count. Linux only (reads /proc/self/status).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** GPT-2 small (124M in 148 tensors). */
function gpt2() {
  const block = [[768], [768], [768, 2304], [2304], [768, 768], [768], [768], [768], [768, 3072], [3072], [3072, 768], [768]];
  return [[50257, 768], [1024, 768], ...Array.from({ length: 12 }, () => block).flat(), [768], [768]];
}

/** torchvision's ResNet-50 (25.6M in 161 tensors). */
function resnet50() {
  const shapes = [[64, 3, 7, 7], [64], [64]];
  let inputs = 64;
  for (const [width, blocks] of [[64, 3], [128, 4], [256, 6], [512, 3]]) {
    for (let b = 0; b < blocks; b++) {
      shapes.push([width, inputs, 1, 1], [width], [width], [width, width, 3, 3], [width], [width], [4 * width, width, 1, 1], [4 * width], [4 * width]);
      if (b === 0) shapes.push([4 * width, inputs, 1, 1], [4 * width], [4 * width]);
      inputs = 4 * width;
    }
  }
  shapes.push([1000, 2048], [1000]);
  return shapes;
}

const WORKLOADS = {
  gpt2: { shapes: gpt2(), steps: 5 },
  resnet50: { shapes: resnet50(), steps: 10 },
  tiny: { shapes: Array.from({ length: 1000 }, () => [10]), steps: 200 },
  single1m: { shapes: [[1 << 20]], steps: 30 },
};

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function rssKiB(field) {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line)[1]);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Child: one measurement of `run` (rectify | rectify-propagate | rectify-graph | adam) on `workload`. */
async function child(run, workloadName, steps) {
  const tf = await import('@tensorflow/tfjs');
  const { useWasmBackend } = await import('../dist/wasm.js');
  const { tfjsBackend } = await import('../dist/index.js');
  const { RAdam } = await import('@rectify/core');
  await useWasmBackend();
  const { shapes } = WORKLOADS[workloadName];
  const params = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  const before = rssKiB('VmRSS');
  const result = { run, workload: workloadName, tensors: shapes.length, params };
  try {
    const vars = shapes.map((s) => tf.tidy(() => tf.variable(tf.randomUniform(s, -1, 1), true)));
    const grads = shapes.map((s) => tf.randomUniform(s, -1e-3, 1e-3));
    globalThis.gc?.();
    writeFileSync('/proc/self/clear_refs', '5');
    let step;
    if (run === 'adam') {
      const adam = tf.train.adam(1e-3);
      const named = Object.fromEntries(vars.map((v, i) => [v.name, grads[i]]));
      step = () => adam.applyGradients(named);
    } else {
      const nonFinite = run === 'rectify-propagate' ? 'propagate' : 'error';
      const opt = new RAdam(tfjsBackend({ synchronous: true, fusedKernel: run !== 'rectify-graph' }), { lr: 1e-3, nonFinite });
      opt.registerTrainableWeights(Object.fromEntries(vars.map((v, i) => [`w${i}`, v])));
      const named = Object.fromEntries(grads.map((g, i) => [`w${i}`, g]));
      step = () => opt.step(named);
    }
    step();
    step();
    const times = [];
    const cpuTimes = [];
    for (let k = 0; k < steps; k++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      step();
      const c = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpuTimes.push((c.user + c.system) / 1000);
    }
    result.msPerStep = median(times);
    result.cpuMsPerStep = median(cpuTimes);
    result.bytesPerParam = ((rssKiB('VmHWM') - before) * 1024) / params;
    result.finite = Number.isFinite(vars[0].dataSync()[0]);
  } catch (error) {
    result.error = `${error?.name}: ${error?.code ?? ''} ${error?.message ?? String(error)}`.slice(0, 400);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Python with torch: $RECTIFY_PYTHON, then python3, then /usr/bin/python3. */
function torchPython() {
  for (const py of [process.env.RECTIFY_PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

const TORCH = `
import json, resource, statistics, sys, time, torch
shapes, steps, threads = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
def rss_kib(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'): return int(line.split()[1])
before = rss_kib('VmRSS')
ps = [torch.nn.Parameter(torch.empty(s).uniform_(-1, 1)) for s in shapes]
for p in ps: p.grad = torch.empty(p.shape).uniform_(-1e-3, 1e-3)
open('/proc/self/clear_refs', 'w').write('5')
opt = torch.optim.RAdam(ps, lr=1e-3, foreach=True)
opt.step(); opt.step()
times, cpu_times = [], []
for _ in range(steps):
    t0, c0 = time.perf_counter(), time.process_time()
    opt.step()
    times.append((time.perf_counter() - t0) * 1000); cpu_times.append((time.process_time() - c0) * 1000)
n = sum(p.numel() for p in ps)
print(json.dumps({'msPerStep': statistics.median(times), 'cpuMsPerStep': statistics.median(cpu_times), 'bytesPerParam': (rss_kib('VmHWM') - before) * 1024 / n}))
`;

/** One measurement in a process of its own. */
function measure(run, workload, steps, threads, python) {
  if (run === 'torch') {
    if (python === undefined) return { run, workload, skipped: 'no Python with torch ($RECTIFY_PYTHON, python3, /usr/bin/python3)' };
    const out = spawnSync(python, ['-c', TORCH, JSON.stringify(WORKLOADS[workload].shapes), String(steps), threads], { encoding: 'utf8' });
    return out.status === 0 ? { run, workload, ...JSON.parse(out.stdout) } : { run, workload, error: out.stderr.slice(-400) };
  }
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, ['--expose-gc', self, '--child', run, workload, String(steps)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = out.stdout.trim().split('\n').at(-1);
  return line?.startsWith('{') ? JSON.parse(line) : { run, workload, error: `exit ${out.status}: ${out.stderr.slice(-400)}` };
}

async function main() {
  const workloads = arg('workloads', 'gpt2,resnet50,tiny').split(',');
  const runs = arg('runs', 'rectify,rectify-propagate,rectify-graph,adam,torch').split(',');
  const threads = arg('threads', '2');
  // Rounds interleave every run of a workload, so that a ratio compares measurements made
  // close together in time (on a shared machine the load changes from minute to minute).
  const rounds = Number(arg('rounds', '1'));
  const python = runs.includes('torch') ? torchPython() : undefined;
  const table = [];
  for (const workload of workloads) {
    const steps = Number(arg('steps', String(WORKLOADS[workload].steps)));
    const byRun = new Map(runs.map((run) => [run, []]));
    for (let round = 0; round < rounds; round++) {
      const rows = runs.map((run) => {
        const row = measure(run, workload, steps, threads, python);
        process.stdout.write(`${JSON.stringify({ round, ...row })}\n`);
        return row;
      });
      const torch = rows.find((r) => r.run === 'torch')?.msPerStep;
      rows.forEach((row) => byRun.get(row.run).push({ ...row, ratio: torch && row.msPerStep ? row.msPerStep / torch : undefined }));
    }
    for (const [run, rows] of byRun) {
      const ok = rows.filter((r) => r.msPerStep !== undefined);
      table.push({
        workload,
        run,
        ms: ok.length === 0 ? (rows[0].error ?? rows[0].skipped) : median(ok.map((r) => r.msPerStep)).toFixed(2),
        ratio: ok.some((r) => r.ratio) ? median(ok.filter((r) => r.ratio).map((r) => r.ratio)).toFixed(2) : '',
        cpu: ok.length === 0 ? '' : median(ok.map((r) => r.cpuMsPerStep)).toFixed(2),
        bytes: ok.length === 0 ? '' : Math.max(...ok.map((r) => r.bytesPerParam)).toFixed(1),
      });
    }
  }
  process.stdout.write(`\n${rounds} round(s); medians over rounds; × torch: median of per-round ratios; bytes/param: the largest\n`);
  process.stdout.write('| workload | run | ms/step | × torch | CPU ms/step | bytes/param |\n|---|---|---:|---:|---:|---:|\n');
  for (const r of table) process.stdout.write(`| ${r.workload} | ${r.run} | ${r.ms} | ${r.ratio} | ${r.cpu} | ${r.bytes} |\n`);
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], Number(process.argv[5]));
else await main();
