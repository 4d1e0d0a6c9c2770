import {
  RAdam,
  RectifyError,
  parseSafetensorsHeader,
  readCheckpointHeader,
  readSafetensorsHeaderLength,
  safetensorsStateSink,
  safetensorsStateSource,
  toBinaryStateDict,
  toJsonStateDict,
  type HostArray,
  type RAdamBinaryStateDict,
  type RAdamStateDict,
  type RAdamStateMeta,
  type StateSource,
  type StateTensorInfo,
} from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { B, W, expectRejectedUnchanged, snapshot, trainedFixture } from './fixture.js';
import type { BackendFactory } from './replay.js';

/**
 * The two forms of a state and its streaming: binary and JSON dicts hold the same content
 * and convert losslessly, parameters travel with `includeParams`, `writeStateTo` streams
 * tensor by tensor, `loadStateFrom` checks everything before its first write.
 *
 * @param createBackend - returns a fresh backend (called once per test).
 * @param timeout - per-test time limit in milliseconds.
 */
export function describeStateForms(createBackend: BackendFactory, timeout: number): void {
  describe('state in binary and streamed', () => {
    it('the binary and JSON forms hold the same content and convert losslessly', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const json = (await f.optimizer.stateDict()) as RAdamStateDict;
      const binary = (await f.optimizer.stateDict({ binary: true })) as RAdamBinaryStateDict;
      expect(binary.params.w!.firstMoment).toBeInstanceOf(f.backend.dtype === 'float64' ? Float64Array : Float32Array);
      expect(JSON.stringify(toJsonStateDict(binary))).toBe(JSON.stringify(json));
      const back = toBinaryStateDict(json);
      expect(Array.from(back.params.b!.secondMoment)).toEqual(Array.from(binary.params.b!.secondMoment));
    });

    it('a binary state dict, structured-cloned, resumes exactly', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const binary = structuredClone((await f.optimizer.stateDict({ binary: true })) as RAdamBinaryStateDict);
      const twin = await trainedFixture(createBackend, { lr: 0.5 });
      await twin.backend.write(twin.params.w, await f.backend.read(f.params.w));
      await twin.backend.write(twin.params.b, await f.backend.read(f.params.b));
      await twin.optimizer.loadStateDict(binary);
      expect(await snapshot(twin)).toEqual(await snapshot(f));
      await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
      await twin.optimizer.step({ w: twin.grad('w'), b: twin.grad('b') });
      expect(await snapshot(twin)).toEqual(await snapshot(f));
    });

    it('includeParams carries the parameters: one snapshot resumes training', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const dict = JSON.parse(JSON.stringify(await f.optimizer.stateDict({ includeParams: true }))) as RAdamStateDict;
      expect(dict.params.w!.param).toBeDefined();
      const backend = await createBackend();
      const params = { w: backend.fromArray(W.map(() => 0), [2, 3]), b: backend.fromArray(B.map(() => 0), [3]) };
      const resumed = new RAdam(backend);
      resumed.registerTrainableWeights(params);
      await resumed.loadStateDict(dict);
      expect(Array.from(await backend.read(params.w))).toEqual(Array.from(await f.backend.read(f.params.w)));
      expect(Array.from(await backend.read(params.b))).toEqual(Array.from(await f.backend.read(f.params.b)));
      expect(resumed.stepCount).toBe(3);
    });

    it('a safetensors checkpoint with parameters resumes bit-exactly on a fresh backend', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const chunks: Uint8Array[] = [];
      const sink = safetensorsStateSink({ write: (bytes) => void chunks.push(bytes.slice()) }, { extra: '{"epoch":3}', savedAt: new Date(0).toISOString() });
      await f.optimizer.writeStateTo(sink, { includeParams: true });
      sink.finish();
      const file = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      chunks.reduce((at, c) => (file.set(c, at), at + c.length), 0);
      const headerLength = readSafetensorsHeaderLength(file.subarray(0, 8), file.length);
      const header = readCheckpointHeader<{ epoch: number }>(parseSafetensorsHeader(file.subarray(8, 8 + headerLength), file.length));
      expect(header.extra).toEqual({ epoch: 3 });

      const twin = await trainedFixture(createBackend, { lr: 0.5 }); // other parameters, moments, options
      await twin.optimizer.loadStateFrom(safetensorsStateSource(header, (begin, end) => file.slice(begin, end)));
      expect(await snapshot(twin)).toEqual(await snapshot(f));
      await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
      await twin.optimizer.step({ w: twin.grad('w'), b: twin.grad('b') });
      expect(await snapshot(twin)).toEqual(await snapshot(f));
    });

    it('writeStateTo announces every tensor, then streams them one at a time', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const events: string[] = [];
      let announced: readonly StateTensorInfo[] = [];
      let meta: RAdamStateMeta | undefined;
      await f.optimizer.writeStateTo(
        {
          begin: (m, tensors) => {
            meta = m;
            announced = tensors;
            events.push('begin');
          },
          tensor: async (info, data, offset) => {
            await Promise.resolve();
            events.push(`${info.name}.${info.role}:${offset}+${data.length}`);
          },
        },
        { includeParams: true },
      );
      expect(events).toEqual(['begin', 'w.firstMoment:0+6', 'w.secondMoment:0+6', 'w.param:0+6', 'b.firstMoment:0+3', 'b.secondMoment:0+3', 'b.param:0+3']);
      const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
      expect(announced.map((t) => size(t.shape))).toEqual([6, 6, 6, 3, 3, 3]);
      expect(announced.map((t) => t.dtype)).toEqual(announced.map(() => f.backend.dtype));
      expect([meta!.params.w!.step, size(meta!.params.w!.shape)]).toEqual([3, 6]);
      expect(meta!.stepCount).toBe(3);
    });

    it('streamed in pieces (chunkElements), the state is the same, bit for bit, and so is the resumed run', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const whole = (await f.optimizer.stateDict({ binary: true, includeParams: true })) as RAdamBinaryStateDict;
      // With readInto, pieces of at most 4 elements through one reused buffer; else whole tensors.
      const pieceOf = (size: number): number[] => (f.backend.readInto === undefined ? [size] : size > 4 ? [4, size - 4] : [size]);
      const pieces: string[] = [];
      const assembled = new Map<string, number[]>();
      const buffers = new Set<ArrayBufferLike>();
      await f.optimizer.writeStateTo(
        {
          begin: () => undefined,
          tensor: (info, data, offset) => {
            pieces.push(`${info.name}.${info.role}:${offset}+${data.length}`);
            buffers.add(data.buffer);
            const key = `${info.name}.${info.role}`;
            assembled.set(key, [...(assembled.get(key) ?? []), ...Array.from(data)]);
          },
        },
        { includeParams: true, chunkElements: 4 },
      );
      const expectedPieces = (['w', 'b'] as const).flatMap((name) =>
        (['firstMoment', 'secondMoment', 'param'] as const).flatMap((role) => {
          let offset = 0;
          return pieceOf(name === 'w' ? 6 : 3).map((n) => `${name}.${role}:${(offset += n) - n}+${n}`);
        }),
      );
      expect(pieces).toEqual(expectedPieces);
      if (f.backend.readInto !== undefined) expect(buffers.size).toBe(1);
      for (const name of ['w', 'b'] as const) {
        for (const role of ['firstMoment', 'secondMoment', 'param'] as const) {
          expect(assembled.get(`${name}.${role}`), `${name}.${role}`).toEqual(Array.from(whole.params[name]![role] as HostArray));
        }
      }

      const twin = await trainedFixture(createBackend, { lr: 0.5 });
      const reads: string[] = [];
      await twin.optimizer.loadStateFrom(
        {
          meta: whole,
          tensors: announcedTensors(whole, f.backend.dtype, true),
          read: (info, begin, end) => {
            reads.push(`${info.name}.${info.role}:${begin}-${end}`);
            return (whole.params[info.name]![info.role] as HostArray).slice(begin, end);
          },
        },
        { chunkElements: 4 },
      );
      // Checked in pieces; written in pieces where the backend writes ranges, else whole.
      const wReads = reads.filter((r) => r.startsWith('w.firstMoment'));
      expect(wReads).toEqual(['w.firstMoment:0-4', 'w.firstMoment:4-6', ...(twin.backend.writeRange === undefined ? ['w.firstMoment:0-6'] : ['w.firstMoment:0-4', 'w.firstMoment:4-6'])]);
      expect(await snapshot(twin)).toEqual(await snapshot(f));
      await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
      await twin.optimizer.step({ w: twin.grad('w'), b: twin.grad('b') });
      expect(await snapshot(twin)).toEqual(await snapshot(f));
    });

    it('a chunkElements that is not a positive integer is INVALID_OPTION, and nothing changes', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const dict = (await f.optimizer.stateDict({ binary: true })) as RAdamBinaryStateDict;
      const source: StateSource = {
        meta: dict,
        tensors: announcedTensors(dict, f.backend.dtype, false),
        read: (info, begin, end) => (dict.params[info.name]![info.role] as HostArray).subarray(begin, end),
      };
      for (const chunkElements of [0, -1, 2.5, NaN, Infinity, '4' as unknown as number]) {
        let wrote = 0;
        const sink = { begin: () => void wrote++, tensor: () => void wrote++ };
        await expectRejectedUnchanged(f, () => f.optimizer.writeStateTo(sink, { chunkElements }), 'INVALID_OPTION', 'chunkElements');
        expect(wrote).toBe(0);
        await expectRejectedUnchanged(f, () => f.optimizer.loadStateFrom(source, { chunkElements }), 'INVALID_OPTION', 'chunkElements');
      }
    });

    it('a step called while a state streams to an asynchronous sink waits (async backend) or is refused (sync)', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const steps: number[] = [];
      const writing = f.optimizer.writeStateTo({
        begin: () => gate,
        tensor: (info) => {
          if (info.name === 'w' && info.role === 'firstMoment') steps.push(f.optimizer.stepCount);
        },
      }) as Promise<void>;
      if (f.backend.synchronous) {
        const before = await Promise.resolve(snapshot(f).catch((e: unknown) => e));
        expect(before).toMatchObject({ code: 'STEP_IN_PROGRESS' }); // reading state is refused too
        expect(() => f.optimizer.step({ w: f.grad('w'), b: f.grad('b') })).toThrow(expect.objectContaining({ code: 'STEP_IN_PROGRESS' }));
        release();
        await writing;
        expect(f.optimizer.stepCount).toBe(3);
      } else {
        const stepping = f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
        release();
        await Promise.all([writing, stepping]);
        expect(steps).toEqual([3]); // the state written is the one before the queued step
        expect(f.optimizer.stepCount).toBe(4);
      }
    });

    it('loadStateFrom reads and checks every tensor before its first write', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const dict = (await f.optimizer.stateDict({ binary: true })) as RAdamBinaryStateDict;
      await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
      const reads: string[] = [];
      const source = (bad?: StateTensorInfo['role']): StateSource => ({
        meta: dict,
        tensors: announcedTensors(dict, f.backend.dtype, false),
        read: (info, begin, end) => {
          reads.push(`${info.name}.${info.role}`);
          const data = (dict.params[info.name]![info.role] as HostArray).subarray(begin, end);
          return info.name === 'b' && info.role === bad ? data.map(() => NaN) : data;
        },
      });
      await expectRejectedUnchanged(f, () => f.optimizer.loadStateFrom(source('secondMoment')), 'INVALID_STATE_DICT', 'b.secondMoment');
      expect(reads).toEqual(['w.firstMoment', 'w.secondMoment', 'b.firstMoment', 'b.secondMoment']);
      reads.length = 0;
      await f.optimizer.loadStateFrom(source());
      expect(reads).toHaveLength(8); // two passes
      expect(f.optimizer.stepCount).toBe(3);
    });

    it('a source that changes between the two passes halts the optimizer', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const dict = (await f.optimizer.stateDict({ binary: true })) as RAdamBinaryStateDict;
      let reads = 0;
      const tensors = announcedTensors(dict, f.backend.dtype, false);
      let error: unknown;
      try {
        await f.optimizer.loadStateFrom({
          meta: dict,
          tensors,
          read: (info, begin, end) => {
            const data = (dict.params[info.name]![info.role] as HostArray).subarray(begin, end);
            return ++reads > tensors.length + 1 ? data.map(() => NaN) : data;
          },
        });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(RectifyError);
      expect((error as RectifyError).code).toBe('BACKEND_ERROR');
      expect(f.optimizer.haltedBy?.code).toBe('BACKEND_ERROR');
    });
  });
}

/** The tensors a state dict holds, as a source announces them. */
function announcedTensors(dict: RAdamBinaryStateDict, dtype: StateTensorInfo['dtype'], includeParams: boolean): StateTensorInfo[] {
  const roles = includeParams ? (['firstMoment', 'secondMoment', 'param'] as const) : (['firstMoment', 'secondMoment'] as const);
  return Object.keys(dict.params).flatMap((name) => roles.map((role) => ({ name, role, dtype, shape: dict.params[name]!.shape })));
}
