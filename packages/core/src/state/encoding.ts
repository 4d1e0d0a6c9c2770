import type { DType, HostArray } from '../backend.js';

/**
 * A typed array as compact JSON: its element type and its little-endian bytes in base64.
 * About 5.3 characters per float32 element, against ~20 for a JSON number list.
 */
export interface EncodedArray {
  readonly dtype: DType;
  readonly length: number;
  readonly base64: string;
}

// Typed arrays use the platform's byte order; every platform JavaScript runs on in
// practice is little-endian, which the format fixes. Refuse a big-endian one loudly.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new Error('Rectify state dicts require a little-endian platform.');
}

const CHUNK = 0x8000;

/** Encodes `array` (float32 or float64) as an {@link EncodedArray}. */
export function encodeArray(array: HostArray): EncodedArray {
  assertLittleEndian();
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  let binary = '';
  // btoa works on "binary strings"; build one in chunks to stay within argument limits.
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return {
    dtype: array instanceof Float64Array ? 'float64' : 'float32',
    length: array.length,
    base64: btoa(binary),
  };
}

/**
 * Decodes an {@link EncodedArray}. Returns `undefined` when it is malformed (wrong
 * fields, bad base64, byte count not matching `length`): callers turn that into an error
 * naming the entry.
 */
export function decodeArray(encoded: unknown): HostArray | undefined {
  assertLittleEndian();
  if (typeof encoded !== 'object' || encoded === null) return undefined;
  const { dtype, length, base64 } = encoded as Partial<Record<keyof EncodedArray, unknown>>;
  if ((dtype !== 'float32' && dtype !== 'float64') || typeof base64 !== 'string') return undefined;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) return undefined;
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return undefined;
  }
  const bytesPerElement = dtype === 'float64' ? 8 : 4;
  if (binary.length !== length * bytesPerElement) return undefined;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return dtype === 'float64' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
}
