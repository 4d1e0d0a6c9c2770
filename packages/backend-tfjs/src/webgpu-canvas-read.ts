/// <reference types="@webgpu/types" />

/** Pixels (4 bytes each) per row of the canvases, and rows: what one read can carry. */
const WIDTH = 256;
const HEIGHT = 64;
const ROW_BYTES = WIDTH * 4;

/** The most bytes {@link canvasReader}'s reader reads at once. */
export const CANVAS_READ_BYTES = ROW_BYTES * HEIGHT;

/** The size a buffer read by {@link canvasReader}'s reader must have for `bytes`: whole rows beyond the first. */
export const canvasReadSize = (bytes: number): number => (bytes <= ROW_BYTES ? Math.ceil(bytes / 4) * 4 : Math.ceil(bytes / ROW_BYTES) * ROW_BYTES);

/** What this module uses of an `OffscreenCanvas` (the package builds without the DOM types). */
interface Canvas {
  getContext(kind: 'webgpu'): GPUCanvasContext | null;
  getContext(kind: '2d', options: { willReadFrequently: boolean }): Canvas2D | null;
}

/** What this module uses of a 2D context. */
interface Canvas2D {
  clearRect(x: number, y: number, width: number, height: number): void;
  drawImage(image: Canvas, x: number, y: number): void;
  getImageData(x: number, y: number, width: number, height: number): { readonly data: Uint8ClampedArray };
}

/** What reads a buffer of `device` synchronously: its first `bytes` (a multiple of 4). */
export type CanvasReader = (buffer: GPUBuffer, bytes: number) => Uint8Array;

/**
 * A synchronous reader of small buffers of `device`, the way tfjs-webgpu's `readSync`
 * reads (a copy into the texture of a WebGPU canvas, drawn into a 2D canvas whose pixels
 * are read), but over canvases configured once: tfjs' makes three new canvases per read,
 * and a few thousand reads (a long training run) exhaust a software GPU (SwiftShader),
 * whose readbacks then give zeros. An `opaque` canvas keeps each word's first three bytes
 * exactly, a `premultiplied` one its fourth (the alpha channel).
 *
 * `undefined` where there is no `OffscreenCanvas` with a `webgpu` context (Node).
 */
export function canvasReader(device: GPUDevice): CanvasReader | undefined {
  const OffscreenCanvas = (globalThis as { OffscreenCanvas?: new (width: number, height: number) => Canvas }).OffscreenCanvas;
  if (typeof OffscreenCanvas !== 'function') return undefined;
  const contexts = (['opaque', 'premultiplied'] as const).map((alphaMode) => {
    const canvas = new OffscreenCanvas(WIDTH, HEIGHT);
    const context = canvas.getContext('webgpu');
    context?.configure({ device, format: 'bgra8unorm', usage: GPUTextureUsage.COPY_DST, alphaMode });
    return { canvas, context };
  });
  const host = new OffscreenCanvas(WIDTH, HEIGHT).getContext('2d', { willReadFrequently: true });
  if (host === null || contexts.some(({ context }) => context === null)) return undefined;
  return (buffer, bytes) => {
    const pixels = bytes / 4;
    const width = Math.min(pixels, WIDTH);
    const height = Math.ceil(pixels / WIDTH);
    const out = new Uint8Array(height * ROW_BYTES);
    contexts.forEach(({ canvas, context }, index) => {
      const encoder = device.createCommandEncoder({ label: 'rectify canvas read' });
      encoder.copyBufferToTexture({ buffer, bytesPerRow: ROW_BYTES }, { texture: context!.getCurrentTexture() }, { width, height });
      device.queue.submit([encoder.finish()]);
      host.clearRect(0, 0, WIDTH, HEIGHT);
      // Drawing the canvas waits for the device: its texture then holds the bytes.
      host.drawImage(canvas, 0, 0);
      const rgba = host.getImageData(0, 0, width, height).data;
      for (let row = 0; row < height; row++) {
        for (let k = row * width * 4, at = row * ROW_BYTES; k < (row + 1) * width * 4; k += 4, at += 4) {
          if (index === 0) {
            // bgra8unorm drawn as RGBA: the first byte comes back as blue.
            out[at] = rgba[k + 2]!;
            out[at + 1] = rgba[k + 1]!;
            out[at + 2] = rgba[k]!;
          } else {
            out[at + 3] = rgba[k + 3]!;
          }
        }
      }
    });
    return out.subarray(0, bytes);
  };
}
