/**
 * A Rectify optimizer state as a safetensors file, without any file system: a
 * {@link StateSink} that turns `RAdam.writeStateTo` into the bytes of a file, written to
 * any byte output as they arrive, and a {@link StateSource} over a file's validated header
 * that reads tensors by offset from any random-access input.
 *
 * Layout. `__metadata__` holds `rectify.format` (`"rectify.checkpoint"`), `rectify.version`,
 * `rectify.saved_at` (ISO 8601), `rectify.state` (the {@link RAdamStateMeta} as JSON:
 * options, groups, steps, scheduler progress) and `rectify.extra` (the caller's JSON). Each
 * tensor is named `<parameter>.<role>` with role `exp_avg` (first moment), `exp_avg_sq`
 * (second moment) or `param` (the parameter, with `includeParams`): PyTorch's names for
 * Adam's state. No role is a suffix of another, so every name decodes to exactly one
 * parameter and role whatever the parameter's name (dots included), and no name can be
 * `__metadata__`.
 */
import type { DType, HostArray } from '../backend.js';
import { RectifyError } from '../errors.js';
import type { MaybePromise } from '../maybe-async.js';
import type { RAdamStateMeta } from '../state/state-dict.js';
import type { StateSink, StateSource, StateTensorInfo, StateTensorRole } from '../state/state-stream.js';
import { encodeSafetensorsHeader, type SafetensorsHeader } from './safetensors.js';

/** Identifies a Rectify checkpoint (the JSON file's `format`, the safetensors file's `rectify.format`). */
export const CHECKPOINT_FORMAT = 'rectify.checkpoint';
/** The checkpoint file version this release writes and reads (both containers). */
export const CHECKPOINT_VERSION = 1;

/** The `__metadata__` keys of a Rectify safetensors checkpoint. */
export const CHECKPOINT_METADATA_KEYS = {
  format: 'rectify.format',
  version: 'rectify.version',
  savedAt: 'rectify.saved_at',
  state: 'rectify.state',
  extra: 'rectify.extra',
} as const;

/** The tensor-name suffix of each role: PyTorch's names for Adam's state. */
export const ROLE_SUFFIXES: Readonly<Record<StateTensorRole, string>> = {
  firstMoment: 'exp_avg',
  secondMoment: 'exp_avg_sq',
  param: 'param',
};

/** The safetensors name of one state tensor: `<parameter>.<exp_avg | exp_avg_sq | param>`. */
export function stateTensorKey(name: string, role: StateTensorRole): string {
  return `${name}.${ROLE_SUFFIXES[role]}`;
}

/** The parameter and role a safetensors name stands for; `undefined` for a name no state tensor has. */
export function parseStateTensorKey(key: string): { readonly name: string; readonly role: StateTensorRole } | undefined {
  for (const role of Object.keys(ROLE_SUFFIXES) as StateTensorRole[]) {
    const suffix = `.${ROLE_SUFFIXES[role]}`;
    if (key.endsWith(suffix)) return { name: key.slice(0, key.length - suffix.length), role };
  }
  return undefined;
}

const SAFETENSORS_DTYPE: Readonly<Record<DType, string>> = { float32: 'F32', float64: 'F64' };

// Tensor bytes are written as the platform holds them; the format is little-endian, as is
// every platform JavaScript runs on in practice. Refuse a big-endian one loudly.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where a {@link safetensorsStateSink} writes: bytes, in order, each call's bytes once. */
export interface ByteOutput {
  /** Appends `bytes`; the output may keep them until the returned promise settles. */
  write(bytes: Uint8Array): MaybePromise<void>;
}

/** A {@link StateSink} that also says whether it received the whole state. */
export interface SafetensorsStateSink extends StateSink {
  /**
   * Checks that every announced tensor arrived (call after `writeStateTo` resolved).
   *
   * @throws RectifyError `INVALID_STATE_DICT` when the stream stopped short.
   */
  finish(): void;
}

function broken(message: string, parameter?: string): RectifyError {
  return new RectifyError('INVALID_STATE_DICT', `State stream: ${message}`, parameter);
}

/**
 * A sink for `RAdam.writeStateTo` that writes a safetensors checkpoint to `output`: the
 * header from the announced metadata and tensor list, then each tensor's bytes as it
 * arrives, unconcatenated (the file's size never has to fit in memory).
 *
 * @param options.extra - the caller's data stored beside the state, already as JSON text.
 * @param options.savedAt - the save's time (ISO 8601).
 */
export function safetensorsStateSink(output: ByteOutput, options: { readonly extra: string; readonly savedAt: string }): SafetensorsStateSink {
  if (!LITTLE_ENDIAN) throw new Error('Rectify safetensors checkpoints require a little-endian platform.');
  let expected: readonly StateTensorInfo[] | undefined;
  // The tensor being received (index into `expected`) and how many of its elements arrived.
  let current = 0;
  let received = 0;
  const sizeOfTensor = (info: StateTensorInfo): number => info.shape.reduce((a, b) => a * b, 1);
  return {
    begin(meta: RAdamStateMeta, tensors: readonly StateTensorInfo[]): MaybePromise<void> {
      expected = tensors;
      const { bytes } = encodeSafetensorsHeader(
        tensors.map((info) => ({ name: stateTensorKey(info.name, info.role), dtype: SAFETENSORS_DTYPE[info.dtype], shape: info.shape })),
        {
          [CHECKPOINT_METADATA_KEYS.format]: CHECKPOINT_FORMAT,
          [CHECKPOINT_METADATA_KEYS.version]: String(CHECKPOINT_VERSION),
          [CHECKPOINT_METADATA_KEYS.savedAt]: options.savedAt,
          [CHECKPOINT_METADATA_KEYS.state]: JSON.stringify(meta),
          [CHECKPOINT_METADATA_KEYS.extra]: options.extra,
        },
      );
      return output.write(bytes);
    },
    tensor(info: StateTensorInfo, data: HostArray, offset: number): MaybePromise<void> {
      const announced = expected?.[current];
      if (announced === undefined || announced.name !== info.name || announced.role !== info.role) {
        throw broken(`got ${info.name}.${info.role}, which was not announced in this place.`, info.name);
      }
      const ArrayType = announced.dtype === 'float64' ? Float64Array : Float32Array;
      const count = sizeOfTensor(announced);
      // Every piece moves on (an empty tensor comes as one empty piece).
      if (!(data instanceof ArrayType) || offset !== received || (data.length === 0) !== (count === 0) || received + data.length > count) {
        throw broken(
          `${info.name}.${info.role}: got ${data.length} elements at ${offset}; expected ${announced.dtype} elements from ${received} (of ${count}).`,
          info.name,
        );
      }
      received += data.length;
      if (received === count) {
        received = 0;
        current++;
      }
      return output.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    },
    finish(): void {
      if (expected === undefined || current !== expected.length) {
        throw broken(`${current} of ${expected?.length ?? '?'} tensors were written.`);
      }
    },
  };
}

/** One tensor of a Rectify checkpoint file and where its bytes lie. */
export interface CheckpointTensorInfo extends StateTensorInfo {
  /** The tensor's name in the file (`<parameter>.<role>`). */
  readonly key: string;
  /** Byte range in the file (absolute: the data section's start included). */
  readonly begin: number;
  readonly end: number;
}

/** What a Rectify safetensors checkpoint's header says, without its tensors. */
export interface SafetensorsCheckpointHeader<Extra = unknown> {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  /** When it was written (ISO 8601). */
  readonly savedAt: string;
  /** The optimizer's state without its arrays (validated when loaded). */
  readonly optimizer: RAdamStateMeta;
  /** Every tensor, in file order. */
  readonly tensors: readonly CheckpointTensorInfo[];
  /** Whatever the caller saved beside it; `null` when nothing was. */
  readonly extra: Extra | null;
}

function corrupt(message: string, parameter?: string): RectifyError {
  return new RectifyError('INVALID_STATE_DICT', `Invalid checkpoint: ${message}`, parameter);
}

function parseJsonEntry(metadata: Readonly<Record<string, string>>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw corrupt(`its metadata has no "${key}".`, key);
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(`its metadata "${key}" is not valid JSON.`, key);
  }
}

/**
 * Reads a validated safetensors header as a Rectify checkpoint: its metadata and the
 * parameter and role of every tensor (the optimizer checks the rest when it loads).
 *
 * @throws RectifyError `INVALID_STATE_DICT` for a file that is not a Rectify checkpoint or
 *   holds a tensor that is not optimizer state (another name, another dtype),
 *   `UNSUPPORTED_STATE_VERSION` for another version.
 */
export function readCheckpointHeader<Extra = unknown>(header: SafetensorsHeader): SafetensorsCheckpointHeader<Extra> {
  const { metadata } = header;
  if (metadata[CHECKPOINT_METADATA_KEYS.format] !== CHECKPOINT_FORMAT) {
    throw corrupt(`this safetensors file is not a Rectify checkpoint (no "${CHECKPOINT_METADATA_KEYS.format}": "${CHECKPOINT_FORMAT}" in its metadata).`, 'format');
  }
  const version = metadata[CHECKPOINT_METADATA_KEYS.version];
  if (version !== String(CHECKPOINT_VERSION)) {
    throw new RectifyError(
      'UNSUPPORTED_STATE_VERSION',
      `Checkpoint version ${JSON.stringify(version)} is not supported; this release reads version ${CHECKPOINT_VERSION}.`,
      'version',
    );
  }
  const optimizer = parseJsonEntry(metadata, CHECKPOINT_METADATA_KEYS.state);
  const extra = parseJsonEntry(metadata, CHECKPOINT_METADATA_KEYS.extra);
  const tensors = header.tensors.map((tensor): CheckpointTensorInfo => {
    const parsed = parseStateTensorKey(tensor.name);
    if (parsed === undefined) throw corrupt(`tensor "${tensor.name}" is not optimizer state (<parameter>.exp_avg, .exp_avg_sq or .param).`, tensor.name);
    const dtype: DType | undefined = tensor.dtype === 'F32' ? 'float32' : tensor.dtype === 'F64' ? 'float64' : undefined;
    if (dtype === undefined) throw corrupt(`tensor "${tensor.name}" is ${tensor.dtype}; optimizer state is F32 or F64.`, tensor.name);
    return {
      ...parsed,
      dtype,
      shape: tensor.shape,
      key: tensor.name,
      begin: header.dataStart + tensor.begin,
      end: header.dataStart + tensor.end,
    };
  });
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    savedAt: metadata[CHECKPOINT_METADATA_KEYS.savedAt] ?? '',
    optimizer: optimizer as RAdamStateMeta,
    tensors,
    extra: (extra ?? null) as Extra | null,
  };
}

/**
 * A {@link StateSource} for `RAdam.loadStateFrom` over a checkpoint's header, reading the
 * bytes of each requested piece with `readRange(begin, end)` (absolute byte offsets).
 * `readRange` must return the same bytes every time (core reads each tensor twice: to
 * validate, then to write).
 */
export function safetensorsStateSource(
  header: SafetensorsCheckpointHeader,
  readRange: (begin: number, end: number) => MaybePromise<Uint8Array<ArrayBuffer>>,
): StateSource {
  if (!LITTLE_ENDIAN) throw new Error('Rectify safetensors checkpoints require a little-endian platform.');
  const byKey = new Map(header.tensors.map((tensor) => [tensor.key, tensor]));
  return {
    meta: header.optimizer,
    tensors: header.tensors.map(({ name, role, dtype, shape }) => ({ name, role, dtype, shape })),
    read(info: StateTensorInfo, begin: number, end: number): MaybePromise<HostArray> {
      const tensor = byKey.get(stateTensorKey(info.name, info.role));
      if (tensor === undefined) throw corrupt(`it has no tensor ${stateTensorKey(info.name, info.role)}.`, info.name);
      const ArrayType = tensor.dtype === 'float64' ? Float64Array : Float32Array;
      const from = tensor.begin + begin * ArrayType.BYTES_PER_ELEMENT;
      const to = tensor.begin + end * ArrayType.BYTES_PER_ELEMENT;
      if (!(begin >= 0 && from <= to && to <= tensor.end)) {
        throw corrupt(`${tensor.key} has no elements ${begin} to ${end}.`, tensor.key);
      }
      const toArray = (bytes: Uint8Array<ArrayBuffer>): HostArray => {
        if (bytes.byteLength !== to - from) {
          throw corrupt(`${tensor.key}: read ${bytes.byteLength} of ${to - from} bytes at ${from} (the file changed or was truncated).`, tensor.key);
        }
        // A typed array view needs an aligned offset; copy only when the reader did not give one.
        const aligned = bytes.byteOffset % ArrayType.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
        return new ArrayType(aligned.buffer, aligned.byteOffset, aligned.byteLength / ArrayType.BYTES_PER_ELEMENT);
      };
      const bytes = readRange(from, to);
      return bytes instanceof Uint8Array ? toArray(bytes) : Promise.resolve(bytes).then(toArray);
    },
  };
}
