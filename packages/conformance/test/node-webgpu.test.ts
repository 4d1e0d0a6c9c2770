/// <reference types="@webgpu/types" />
import { describe, expect, it } from 'vitest';
import { everyBackendRequired } from '../src/environment.js';
import { configureSoftwareVulkan, loadNodeWebGpu } from '../src/node-webgpu.js';

describe('configureSoftwareVulkan', () => {
  it('keeps a driver the user chose and an existing runtime dir', () => {
    const env: Record<string, string | undefined> = { VK_ICD_FILENAMES: '/x/icd.json', XDG_RUNTIME_DIR: '/tmp' };
    expect(configureSoftwareVulkan(env)).toEqual({});
    expect(env).toEqual({ VK_ICD_FILENAMES: '/x/icd.json', XDG_RUNTIME_DIR: '/tmp' });
  });

  it('creates a runtime dir when none exists', () => {
    const env: Record<string, string | undefined> = { VK_DRIVER_FILES: '/x/icd.json', XDG_RUNTIME_DIR: '/nonexistent/run' };
    const set = configureSoftwareVulkan(env);
    expect(Object.keys(set)).toEqual(['XDG_RUNTIME_DIR']);
    expect(env.XDG_RUNTIME_DIR).toBe(set.XDG_RUNTIME_DIR);
    expect(env.XDG_RUNTIME_DIR).not.toBe('/nonexistent/run');
  });
});

describe('loadNodeWebGpu', () => {
  it('gives an adapter that runs a compute shader, or says why not (required on CI)', async () => {
    const found = await loadNodeWebGpu();
    if (found.unavailable !== undefined) {
      if (everyBackendRequired()) expect.fail(found.unavailable);
      console.warn(`[node-webgpu] ${found.unavailable}`);
      return;
    }
    const device = await found.adapter.requestDevice();
    const module = device.createShaderModule({
      code: '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n' +
        '@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3u) { x[id.x] = x[id.x] * 2.0 + f32(id.x); }',
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const data = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(data, 0, new Float32Array([1, 2, 3, 4]));
    const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    encoder.copyBufferToBuffer(data, 0, staging, 0, 16);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    expect(Array.from(new Float32Array(staging.getMappedRange()))).toEqual([2, 5, 8, 11]);
    staging.unmap();
    device.destroy();
    expect(found.adapterName).toMatch(/\S/);
  }, 60_000);
});
