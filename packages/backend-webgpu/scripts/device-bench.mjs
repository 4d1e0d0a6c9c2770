// Measures @rectify/backend-webgpu on the machine's WebGPU adapter (Dawn in Node): the
// device's copy bandwidth, then RAdam steps for one tensor of 1e3 … 1e8 elements and for
// 1000 × 1000 tensors. Prints one JSON object (rows + the two goals).
//
//   pnpm --filter @rectify/backend-webgpu... build
//   node packages/backend-webgpu/scripts/device-bench.mjs [--max 100000000] [--time 3000]
//
// Needs the `webgpu` package (a devDependency here) and a Vulkan driver: on an NVIDIA
// machine the driver's own ICD (nvidia_icd.json, from the driver's Vulkan/GL libraries);
// without one the loader falls back to SwiftShader, whose figures only prove the path.
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import { benchWebGpuSteps, measureCopyBandwidth } from '@rectify/backend-webgpu/bench';
import { createWebGpuBackend } from '@rectify/backend-webgpu';

const arg = (flag, fallback) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const max = arg('--max', 1e8);
const timeMs = arg('--time', 3000);

const found = await loadNodeWebGpu();
if (found.unavailable !== undefined) {
  console.log(JSON.stringify({ unavailable: found.unavailable }));
  process.exit(2);
}
const backend = await createWebGpuBackend({ adapter: found.adapter });
// 256 MiB each way (or the device's limit): far beyond every cache, within a software GPU's memory.
const copyBytes = Math.min(1 << 28, Math.floor(backend.device.limits.maxBufferSize / 4) * 4);
const copy = await measureCopyBandwidth(backend.device, copyBytes);
const rows = [];
for (let size = 1e3; size <= max; size *= 10) {
  const row = await benchWebGpuSteps(backend, { tensors: 1, size, timeMs });
  rows.push(row);
  console.error(`1 × ${size}: ${(row.elementsPerSecond / 1e9).toFixed(3)} G elements/s, ${(row.bytesPerSecond / 1e9).toFixed(1)} GB/s`);
}
const multi = await benchWebGpuSteps(backend, { tensors: 1000, size: 1000, timeMs });
rows.push(multi);
console.error(`1000 × 1000: ${(multi.elementsPerSecond / 1e9).toFixed(3)} G elements/s, ${multi.updateDispatchesPerStep} update dispatch(es)/step`);
const largest = rows.filter((r) => r.tensors === 1).at(-1);
const single1e6 = rows.find((r) => r.tensors === 1 && r.size === 1e6);
console.log(
  JSON.stringify(
    {
      adapter: found.adapterName,
      isSoftware: found.isSoftware,
      workgroupSize: backend.workgroupSize,
      copyBandwidthBytesPerSecond: copy.bytesPerSecond,
      rows,
      goals: {
        // >= 70% of memory bandwidth at the largest size (copy bandwidth stands in for it).
        largestVsCopyBandwidth: largest.bytesPerSecond / copy.bytesPerSecond,
        // 1000 × 1000 at >= 50% of the single-tensor rate (1e6 elements in one tensor).
        multiVsSingle: single1e6 === undefined ? undefined : multi.elementsPerSecond / single1e6.elementsPerSecond,
      },
    },
    null,
    2,
  ),
);
backend.dispose();
