#!/usr/bin/env bash
# The GPU device check (issues 14 and 15), for a machine with a real GPU: one command,
# under 5 minutes, nothing fetched from the network (run it in a tree built here and
# carried over with its node_modules):
#
#   bash apps/bench/scripts/gpu-device-check.sh [out-dir]
#
# 1. The golden replay on every WebGPU/GL backend that Node runs (conformance CLI):
#    webgpu, gpujs-webgpu, tfjs-webgpu, gpujs-headlessgl.
# 2. Rectify's WebGPU backend against the device's copy bandwidth (1e3 … 1e8 elements,
#    and 1000 × 1000 tensors): packages/backend-webgpu/scripts/device-bench.mjs.
# 3. The bench's throughput table on the same backends, one size per decade up to 1e8.
#
# Dawn keeps the NVIDIA driver's Vulkan ICD when one is installed (else SwiftShader, whose
# figures only prove the path). headless-gl under Xvfb is always Mesa's software GL.
set -uo pipefail
cd "$(dirname "$0")/../../.."
out="${1:-${OUT:-/tmp/rectify-gpu-check}}"
mkdir -p "$out"
backends=(webgpu gpujs-webgpu tfjs-webgpu gpujs-headlessgl)
export RECTIFY_REQUIRE_ALL_BACKENDS=1

nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv > "$out/nvidia-smi.csv" 2>&1 || true
command -v vulkaninfo > /dev/null && vulkaninfo --summary > "$out/vulkaninfo.txt" 2>&1

for backend in "${backends[@]}"; do
  echo "== replay $backend"
  timeout 90 node apps/example/dist/conformance-cli.js replay --backend "$backend" packages/conformance/goldens/radam.json \
    > "$out/replay-$backend.json" 2> "$out/replay-$backend.err"
  echo "rc=$?" >> "$out/replay-$backend.err"
done

echo "== webgpu device bench"
timeout 120 node packages/backend-webgpu/scripts/device-bench.mjs --max 100000000 --time 2000 \
  > "$out/webgpu-device-bench.json" 2> "$out/webgpu-device-bench.err"

echo "== throughput table"
timeout 120 node --expose-gc apps/bench/dist/cli.js --backend "$(IFS=,; echo "${backends[*]}")" \
  --size 1e4,1e6,1e8 --time 500 --skip-tfjs-adam > "$out/bench.md" 2> "$out/bench.err"
echo "done: $out"
