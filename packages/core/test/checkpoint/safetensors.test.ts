import { describe, expect, it } from 'vitest';
import {
  SAFETENSORS_MAX_HEADER_BYTES,
  encodeSafetensorsHeader,
  looksLikeSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
} from '../../src/checkpoint/safetensors.js';
import {
  parseStateTensorKey,
  readCheckpointHeader,
  safetensorsStateSink,
  safetensorsStateSource,
  stateTensorKey,
} from '../../src/checkpoint/state-file.js';
import type { RAdamStateMeta } from '../../src/state/state-dict.js';
import type { StateTensorInfo, StateTensorRole } from '../../src/state/state-stream.js';

const encoder = new TextEncoder();

/** A whole file: the 8-byte length, `json` padded with spaces to `padTo`, then `data` bytes. */
function file(json: string, data: number[] = [], lengthOverride?: bigint): Uint8Array {
  const header = encoder.encode(json);
  const bytes = new Uint8Array(8 + header.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, lengthOverride ?? BigInt(header.length), true);
  bytes.set(header, 8);
  bytes.set(data, 8 + header.length);
  return bytes;
}

/** Parses a whole file as a reader does: the length, then the header. */
function parse(bytes: Uint8Array) {
  const length = readSafetensorsHeaderLength(bytes.subarray(0, 8), bytes.length);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + length), bytes.length);
}

describe('safetensors header', () => {
  it('lays out tensors contiguously, metadata first, padded with spaces to an 8-byte boundary', () => {
    const { bytes, header } = encodeSafetensorsHeader(
      [
        { name: 'a', dtype: 'F32', shape: [2] },
        { name: 'b', dtype: 'F64', shape: [1, 1] },
      ],
      { k: 'v' },
    );
    // Written by hand from the format: offsets relative to the data section.
    const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1,1],"data_offsets":[8,16]}}';
    expect(json.length).toBe(135); // + 1 space = 136, a multiple of 8
    const expected = new Uint8Array(8 + 136).fill(0x20);
    expected.set([136, 0, 0, 0, 0, 0, 0, 0], 0); // u64 little-endian
    expected.set(encoder.encode(json), 8);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    expect(header).toEqual({
      metadata: { k: 'v' },
      tensors: [
        { name: 'a', dtype: 'F32', shape: [2], begin: 0, end: 8 },
        { name: 'b', dtype: 'F64', shape: [1, 1], begin: 8, end: 16 },
      ],
      dataStart: 144,
      dataBytes: 16,
    });
  });

  it('keeps the order given for integer-like names and writes __proto__ as a plain key', () => {
    const { bytes } = encodeSafetensorsHeader([
      { name: 'z', dtype: 'F32', shape: [] },
      { name: '1', dtype: 'F32', shape: [0] },
      { name: '__proto__', dtype: 'F32', shape: [1] },
    ]);
    const text = new TextDecoder().decode(bytes.subarray(8)).trimEnd();
    expect(text).toBe(
      '{"z":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    );
    const parsed = parse(new Uint8Array([...bytes, ...new Array(8).fill(0)]));
    expect(parsed.tensors.map((t) => t.name)).toEqual(['z', '1', '__proto__']);
  });

  it('refuses names it cannot write unambiguously and dtypes the format does not define', () => {
    const bad = (tensors: Parameters<typeof encodeSafetensorsHeader>[0]): unknown => {
      try {
        encodeSafetensorsHeader(tensors);
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'accepted';
    };
    expect(bad([{ name: '__metadata__', dtype: 'F32', shape: [1] }])).toBe('INVALID_STATE_DICT');
    expect(bad([{ name: 'a', dtype: 'F32', shape: [1] }, { name: 'a', dtype: 'F32', shape: [1] }])).toBe('INVALID_STATE_DICT');
    expect(bad([{ name: 'a', dtype: 'float32', shape: [1] }])).toBe('INVALID_STATE_DICT');
    expect(bad([{ name: 'a', dtype: 'F32', shape: [-1] }])).toBe('INVALID_STATE_DICT');
    expect(bad([{ name: 'a', dtype: 'F32', shape: [1.5] }])).toBe('INVALID_STATE_DICT');
  });

  it('parses a file whose JSON lists tensors out of data order (as another writer may)', () => {
    const json = '{"b":{"dtype":"F64","shape":[1],"data_offsets":[4,12]},"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}';
    const parsed = parse(file(json, new Array(12).fill(0)));
    expect(parsed.tensors.map((t) => [t.name, t.begin, t.end])).toEqual([
      ['a', 0, 4],
      ['b', 4, 12],
    ]);
    expect(parsed.metadata).toEqual({});
    expect(parsed.dataStart).toBe(8 + json.length);
  });

  it('accepts the empty file {} and tells safetensors from JSON by its first bytes', () => {
    expect(parse(file('{}')).tensors).toEqual([]);
    expect(looksLikeSafetensors(file('{}   '))).toBe(true);
    expect(looksLikeSafetensors(encoder.encode('{"format":"rectify.checkpoint"}'))).toBe(false);
    expect(looksLikeSafetensors(file(' {}'))).toBe(false); // a small length, but no "{" after it
  });

  const T = (offsets: string, shape = '[2]', dtype = '"F32"'): string => `"t":{"dtype":${dtype},"shape":${shape},"data_offsets":${offsets}}`;
  const rejections: [string, Uint8Array, RegExp][] = [
    ['fewer than 8 bytes', new Uint8Array(5), /fewer than the 8/],
    ['a header over the 100 MB limit', file('{}', [], BigInt(SAFETENSORS_MAX_HEADER_BYTES + 1)), /over the format's limit/],
    ['a header past the end of the file', file('{}', [], 50n), /truncated/],
    ['a header not starting with {', file(' {}'), /does not start with "\{"/],
    ['a header that is not JSON', file('{"t":'), /not valid JSON/],
    ['a header that is not UTF-8', (() => { const f = file('{"\u00e9":1}'); f[10] = 0xff; return f; })(), /not UTF-8/],
    ['a header that is an array', file('[]'), /does not start/],
    ['metadata that is not strings', file('{"__metadata__":{"a":1}}'), /metadata "a" is not a string/],
    ['an unknown dtype', file(`{${T('[0,8]', '[2]', '"F33"')}}`, new Array(8).fill(0)), /unknown dtype "F33"/],
    ['a negative dimension', file(`{${T('[0,8]', '[-2]')}}`, new Array(8).fill(0)), /has shape \[-2\]/],
    ['a fractional dimension', file(`{${T('[0,8]', '[2.5]')}}`, new Array(8).fill(0)), /has shape/],
    ['too few bytes for the shape', file(`{${T('[0,4]')}}`, new Array(4).fill(0)), /spans 4 bytes; F32 of shape \[2\] needs 8/],
    ['an end before the begin', file(`{${T('[8,0]')}}`, new Array(8).fill(0)), /ends \(0\) before it begins \(8\)/],
    ['offsets that are not two integers', file(`{${T('[0]')}}`, new Array(8).fill(0)), /data_offsets \[0\]/],
    ['a hole before the first tensor', file(`{${T('[4,12]')}}`, new Array(12).fill(0)), /begins at 4, not at 0/],
    [
      'overlapping tensors',
      file(`{${T('[0,8]')},"u":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, new Array(12).fill(0)),
      /"u" begins at 4, not at 8/,
    ],
    ['trailing data', file(`{${T('[0,8]')}}`, new Array(9).fill(0)), /trailing data/],
    ['truncated data', file(`{${T('[0,8]')}}`, new Array(7).fill(0)), /truncated/],
  ];
  it.each(rejections)('rejects %s with INVALID_STATE_DICT', (_what, bytes, message) => {
    let thrown: unknown;
    try {
      parse(bytes);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'RectifyError', code: 'INVALID_STATE_DICT' });
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('state tensor names', () => {
  const ROLES: StateTensorRole[] = ['firstMoment', 'secondMoment', 'param'];
  // Names chosen to collide under a naive scheme: suffixes, prefixes, reserved words.
  const NAMES = ['w', 'layer.0.weight', 'w.exp_avg', 'w.exp_avg_sq', 'w.param', 'exp_avg', '', '.', '__metadata__', '__proto__', 'a.b.param.exp_avg', 'é ✓'];

  it('names tensors as PyTorch names Adam state', () => {
    expect(ROLES.map((role) => stateTensorKey('layer.0.weight', role))).toEqual([
      'layer.0.weight.exp_avg',
      'layer.0.weight.exp_avg_sq',
      'layer.0.weight.param',
    ]);
  });

  it('gives every (parameter, role) its own name, never __metadata__, and decodes it back', () => {
    const keys = NAMES.flatMap((name) => ROLES.map((role) => ({ key: stateTensorKey(name, role), name, role })));
    expect(new Set(keys.map((k) => k.key)).size).toBe(NAMES.length * ROLES.length);
    for (const { key, name, role } of keys) {
      expect(key).not.toBe('__metadata__');
      expect(parseStateTensorKey(key)).toEqual({ name, role });
    }
    expect(parseStateTensorKey('w.weight')).toBeUndefined();
    expect(parseStateTensorKey('__metadata__')).toBeUndefined();
  });
});

describe('state as a safetensors file (no file system)', () => {
  const meta = { format: 'rectify.radam', version: 1, stepCount: 2, params: { 'a.b': { shape: [2], step: 2 } } } as unknown as RAdamStateMeta;
  const tensors: StateTensorInfo[] = [
    { name: 'a.b', role: 'firstMoment', dtype: 'float32', shape: [2] },
    { name: 'a.b', role: 'secondMoment', dtype: 'float32', shape: [2] },
  ];

  async function written(feed: (sink: ReturnType<typeof safetensorsStateSink>) => Promise<void> | void): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    const sink = safetensorsStateSink({ write: (bytes) => void chunks.push(bytes.slice()) }, { extra: '{"epoch":7}', savedAt: '2025-01-02T03:04:05.000Z' });
    await feed(sink);
    sink.finish();
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  }

  it('writes the header, then each tensor as it arrives, and reads them back by offset', async () => {
    const m = new Float32Array([0.5, -1.25]);
    const v = new Float32Array([2, 0.125]);
    const bytes = await written(async (sink) => {
      await sink.begin(meta, tensors);
      await sink.tensor(tensors[0]!, m, 0);
      // In pieces, as the optimizer streams a tensor through its reused buffer.
      await sink.tensor(tensors[1]!, v.subarray(0, 1), 0);
      await sink.tensor(tensors[1]!, v.subarray(1), 1);
    });
    const header = readCheckpointHeader<{ epoch: number }>(parse(bytes));
    expect(header.extra).toEqual({ epoch: 7 });
    expect(header.savedAt).toBe('2025-01-02T03:04:05.000Z');
    expect(header.optimizer).toEqual(meta);
    expect(header.tensors.map((t) => [t.key, t.name, t.role, t.end - t.begin])).toEqual([
      ['a.b.exp_avg', 'a.b', 'firstMoment', 8],
      ['a.b.exp_avg_sq', 'a.b', 'secondMoment', 8],
    ]);
    // The data are the arrays' little-endian bytes: 0.5f is 00 00 00 3f.
    expect(Array.from(bytes.subarray(header.tensors[0]!.begin, header.tensors[0]!.begin + 4))).toEqual([0, 0, 0, 0x3f]);
    expect(bytes.length).toBe(header.tensors[1]!.end);
    const source = safetensorsStateSource(header, (begin, end) => bytes.slice(begin, end));
    expect(source.tensors).toEqual(tensors);
    expect(Array.from((await source.read(tensors[0]!, 0, 2)) as Float32Array)).toEqual([0.5, -1.25]);
    expect(Array.from((await source.read(tensors[1]!, 0, 2)) as Float32Array)).toEqual([2, 0.125]);
    expect(Array.from((await source.read(tensors[1]!, 1, 2)) as Float32Array)).toEqual([0.125]);
    expect(Array.from((await source.read(tensors[0]!, 1, 1)) as Float32Array)).toEqual([]);
    expect(() => source.read(tensors[0]!, 1, 3)).toThrow(/has no elements 1 to 3/);
    expect(() => source.read(tensors[0]!, -1, 1)).toThrow(/has no elements -1 to 1/);
  });

  it('reads tensors at unaligned offsets from the reader', async () => {
    const bytes = await written(async (sink) => {
      await sink.begin(meta, tensors);
      await sink.tensor(tensors[0]!, new Float32Array([1, 2]), 0);
      await sink.tensor(tensors[1]!, new Float32Array([3, 4]), 0);
    });
    const header = readCheckpointHeader(parse(bytes));
    const source = safetensorsStateSource(header, (begin, end) => {
      const shifted = new Uint8Array(end - begin + 1);
      shifted.set(bytes.subarray(begin, end), 1);
      return Promise.resolve(shifted.subarray(1));
    });
    expect(Array.from((await source.read(tensors[1]!, 0, 2)) as Float32Array)).toEqual([3, 4]);
    expect(Array.from((await source.read(tensors[1]!, 1, 2)) as Float32Array)).toEqual([4]);
  });

  it('refuses a stream that skips, reorders, mistypes or stops short', async () => {
    const run = async (feed: (sink: ReturnType<typeof safetensorsStateSink>) => Promise<void>): Promise<string> => {
      try {
        await written(feed);
        return 'accepted';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    const f32 = (n: number): Float32Array => new Float32Array(n);
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(2), 0); await s.tensor(tensors[1]!, f32(2), 0); })).toBe('accepted');
    // skips a tensor, mistyped, too long, stops short (one tensor of two, half a tensor)
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[1]!, f32(2), 0); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, new Float64Array(2), 0); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(3), 0); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(2), 0); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(2), 0); await s.tensor(tensors[1]!, f32(1), 0); })).toBe('INVALID_STATE_DICT');
    // pieces with a gap, overlapping, past the end, empty (of a non-empty tensor)
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(1), 1); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(1), 0); await s.tensor(tensors[0]!, f32(1), 0); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(1), 0); await s.tensor(tensors[0]!, f32(2), 1); })).toBe('INVALID_STATE_DICT');
    expect(await run(async (s) => { await s.begin(meta, tensors); await s.tensor(tensors[0]!, f32(0), 0); })).toBe('INVALID_STATE_DICT');
  });

  it('refuses safetensors files that are not Rectify state', () => {
    const other = parse(file('{"__metadata__":{"format":"pt"}}'));
    expect(() => readCheckpointHeader(other)).toThrow(/not a Rectify checkpoint/);
    const newer = parse(file('{"__metadata__":{"rectify.format":"rectify.checkpoint","rectify.version":"2"}}'));
    expect(() => readCheckpointHeader(newer)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_STATE_VERSION' }));
    const md = '"__metadata__":{"rectify.format":"rectify.checkpoint","rectify.version":"1","rectify.state":"{}","rectify.extra":"null"}';
    expect(() => readCheckpointHeader(parse(file(`{${md},"w.weight":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, [0, 0, 0, 0])))).toThrow(/not optimizer state/);
    expect(() => readCheckpointHeader(parse(file(`{${md},"w.exp_avg":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}`, [0, 0])))).toThrow(/F16; optimizer state is F32 or F64/);
    const broken = md.replace('"rectify.state":"{}"', '"rectify.state":"{"');
    expect(() => readCheckpointHeader(parse(file(`{${broken}}`)))).toThrow(/"rectify.state" is not valid JSON/);
  });
});
