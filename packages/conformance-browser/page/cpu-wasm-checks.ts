/**
 * The page's own checks of `cpu-wasm` beyond the goldens, on the page it was opened on
 * (cross-origin isolated or not): the memory grows without invalidating tensors, and a
 * step large enough to be cut into real chunks (the default tuning, so on the workers
 * where there are any) gives bitwise the results of one thread and the float64
 * reference's within float32 tolerance. Each reports its step time in `detail`.
 */
import { cpuBackend, wasmCpuBackend, type MemoryKind, type WasmCpuBackendOptions } from '@rectify/backend-cpu';
import { RAdam, type TensorBackend } from '@rectify/core';

/** One check: its problems (empty when it passed) and what it measured. */
export interface PageCheck {
  readonly name: string;
  run(): Promise<{ readonly problems: readonly string[]; readonly detail?: string }>;
}

/** The memory a `cpu-wasm` backend must report on this page. */
function expectedMemory(): MemoryKind {
  if (globalThis.crossOriginIsolated) return 'shared';
  return typeof (WebAssembly.Memory.prototype as { toResizableBuffer?: unknown }).toResizableBuffer === 'function' ? 'resizable' : 'fixed';
}

const ELEMENTS = 1 << 20;
const STEPS = 10;

/** `STEPS` steps of RAdam (clipping, weight decay) on an `ELEMENTS`-element parameter; returns it and the step time. */
async function train(backend: TensorBackend<any>): Promise<{ readonly values: Float64Array; readonly msPerStep: number }> {
  const init = new Float32Array(ELEMENTS);
  for (let i = 0; i < ELEMENTS; i++) init[i] = Math.sin(i * 0.001);
  const optimizer = new RAdam(backend, { lr: 0.01, weightDecay: 0.01, gradClipNorm: 100 });
  const { params } = optimizer.registerResidentWeights({ w: init });
  const grad = backend.zerosLike(params.w);
  const host = new Float32Array(ELEMENTS);
  let ms = 0;
  for (let k = 1; k <= STEPS; k++) {
    for (let i = 0; i < ELEMENTS; i++) host[i] = Math.cos(i * 0.01 * k);
    await backend.write(grad, host);
    const start = performance.now();
    await optimizer.step({ w: grad });
    ms += performance.now() - start;
  }
  const values = Float64Array.from(await backend.read(params.w));
  optimizer.dispose();
  backend.disposeTensor(grad);
  backend.disposeTensor(params.w);
  return { values, msPerStep: ms / STEPS };
}

/** The checks of the page entry whose backends are made with `options`. */
export function cpuWasmChecks(options: WasmCpuBackendOptions): readonly PageCheck[] {
  return [
    {
      name: 'the memory grows past initialMemoryMiB: tensors made before keep their values',
      run: async () => {
        const backend = await wasmCpuBackend({ ...options, initialMemoryMiB: 1, maximumMemoryMiB: 256 });
        try {
          const problems: string[] = [];
          const memory = backend.memoryStats().memory;
          if (memory !== expectedMemory()) problems.push(`memoryStats().memory is ${memory}, expected ${expectedMemory()}`);
          const before = backend.fromArray([1, 2, 3, 4], [4]);
          const big = memory === 'fixed' ? undefined : backend.zeros(8 << 20);
          if (big !== undefined && backend.memoryStats().capacityBytes <= 32 << 20) problems.push('the memory did not grow');
          if (Array.from(before).join() !== '1,2,3,4') problems.push(`a tensor made before the grow reads ${Array.from(before).join()}`);
          if (!backend.owns(before)) problems.push('the backend no longer owns a tensor made before the grow');
          return { problems, detail: `memory: ${memory}, ${backend.memoryStats().capacityBytes >> 20} MiB` };
        } finally {
          backend.dispose();
        }
      },
    },
    {
      name: `${ELEMENTS} elements × ${STEPS} steps (default chunks): bitwise as on 1 thread, within float32 of cpu64`,
      run: async () => {
        const many = await wasmCpuBackend({ threads: options.threads });
        const one = await wasmCpuBackend({ threads: 1 });
        try {
          const a = await train(many);
          const b = await train(one);
          const reference = await train(cpuBackend({ dtype: 'float64' }));
          const problems: string[] = [];
          const differing = a.values.findIndex((x, i) => x !== b.values[i]);
          if (differing >= 0) problems.push(`element ${differing}: ${a.values[differing]} on ${many.threads} threads, ${b.values[differing]} on 1`);
          const off = a.values.findIndex((x, i) => Math.abs(x - reference.values[i]!) > 1e-5 + 1e-4 * Math.abs(reference.values[i]!));
          if (off >= 0) problems.push(`element ${off}: ${a.values[off]}, cpu64 has ${reference.values[off]}`);
          const detail =
            `${many.threads} threads (${many.threading}): ${a.msPerStep.toFixed(2)} ms/step; 1 thread: ${b.msPerStep.toFixed(2)} ms/step; ` +
            `cpu64: ${reference.msPerStep.toFixed(2)} ms/step`;
          return { problems, detail };
        } finally {
          many.dispose();
          one.dispose();
        }
      },
    },
  ];
}
