import { describe, expect, it } from 'vitest';
import { decodeArray, encodeArray } from '../src/state/encoding.js';

describe('encodeArray / decodeArray', () => {
  it('round-trips float32 and float64 bit for bit', () => {
    const f32 = Float32Array.from([0, -0, 1.5, -3.25e-30, 3.4e38, Math.PI]);
    const f64 = Float64Array.from([Math.E, -1e-300, 1e300, 0.1]);
    expect(decodeArray(JSON.parse(JSON.stringify(encodeArray(f32))))).toEqual(f32);
    expect(decodeArray(encodeArray(f64))).toEqual(f64);
    expect(encodeArray(f64).dtype).toBe('float64');
  });

  it('is compact: base64 of the raw bytes', () => {
    const encoded = encodeArray(new Float32Array(3000));
    expect(encoded.base64.length).toBe(16000);
  });

  it('encodes a view into a larger buffer correctly', () => {
    const backing = Float32Array.from([9, 1, 2, 9]);
    expect(Array.from(decodeArray(encodeArray(backing.subarray(1, 3)))!)).toEqual([1, 2]);
  });

  it.each([
    ['not an object', 'x'],
    ['unknown dtype', { dtype: 'int8', length: 1, base64: 'AA==' }],
    ['bad base64', { dtype: 'float32', length: 1, base64: '@@@' }],
    ['length mismatch', { dtype: 'float32', length: 2, base64: encodeArray(new Float32Array(1)).base64 }],
  ])('returns undefined when %s', (_, value) => {
    expect(decodeArray(value)).toBeUndefined();
  });
});
