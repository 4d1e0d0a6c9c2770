/**
 * The safetensors container (https://github.com/huggingface/safetensors), written from its
 * published format: an 8-byte little-endian unsigned header length `N`, `N` bytes of UTF-8
 * JSON, then the raw little-endian tensor data. The JSON maps each tensor name to
 * `{ dtype, shape, data_offsets: [begin, end] }` (byte offsets relative to the start of the
 * data) and may hold `__metadata__`, a string-to-string map.
 *
 * Written here rather than taken from npm: no maintained JavaScript implementation that
 * streams exists there (the one package named `safetensors` is a two-year-old 0.0.1), and
 * streaming is the point: a header can be built from the tensor list alone, before any data,
 * and a file can be validated from its header alone, before any tensor is read. Nothing here
 * touches a file system; `@rectify/core/node` and `@rectify/core/browser` do the I/O.
 */
import { RectifyError } from '../errors.js';

/** The largest header the reference implementation reads (its `MAX_HEADER_SIZE`). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** The key of the string-to-string metadata map in a safetensors header. */
export const SAFETENSORS_METADATA_KEY = '__metadata__';

/** Bytes per element of every dtype the safetensors format defines (its byte-sized ones). */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Bytes per element of a safetensors dtype, `undefined` for a name the format does not define. */
export function safetensorsDtypeBytes(dtype: string): number | undefined {
  return Object.hasOwn(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : undefined;
}

/** A tensor to lay out in a new file: what {@link encodeSafetensorsHeader} takes. */
export interface SafetensorsTensorSpec {
  readonly name: string;
  /** A safetensors dtype name (`F32`, `F64`, …). */
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** A tensor of a safetensors file: its place in the data section. */
export interface SafetensorsTensor extends SafetensorsTensorSpec {
  /** First byte, relative to the start of the data section. */
  readonly begin: number;
  /** One past the last byte, relative to the start of the data section. */
  readonly end: number;
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** The `__metadata__` map (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor, in the order of its data (by `begin`). */
  readonly tensors: readonly SafetensorsTensor[];
  /** Where the data section starts in the file: 8 + the header length. */
  readonly dataStart: number;
  /** Bytes in the data section: the file is `dataStart + dataBytes` bytes long. */
  readonly dataBytes: number;
}

function invalid(message: string, parameter?: string): RectifyError {
  return new RectifyError('INVALID_STATE_DICT', `Invalid safetensors file: ${message}`, parameter);
}

/** Element count of `shape`, or `undefined` when it is not a list of non-negative safe integers with a safe product. */
function elementCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let count = 1;
  for (const d of shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return undefined;
    count *= d;
    if (!Number.isSafeInteger(count)) return undefined;
  }
  return count;
}

/**
 * Lays out a new file: its header bytes (length prefix, JSON, space padding so that the data
 * starts 8-byte aligned, as the reference writer does) and each tensor's offsets. Tensors are
 * laid out contiguously in the order given. Object keys are written in that order too
 * (`__metadata__` first), whatever they look like: the JSON is assembled by hand because
 * `JSON.stringify` would move integer-like keys first and treat `__proto__` specially.
 *
 * @throws RectifyError `INVALID_STATE_DICT` for a duplicate or reserved name, an unknown
 *   dtype, a bad shape, or a data section beyond 2^53 bytes.
 */
export function encodeSafetensorsHeader(
  tensors: readonly SafetensorsTensorSpec[],
  metadata: Readonly<Record<string, string>> = {},
): { readonly bytes: Uint8Array; readonly header: SafetensorsHeader } {
  const parts: string[] = [];
  const metadataKeys = Object.keys(metadata);
  if (metadataKeys.length > 0) {
    const entries = metadataKeys.map((key) => {
      const value = metadata[key];
      if (typeof value !== 'string') throw invalid(`metadata "${key}" must be a string.`, key);
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    parts.push(`${JSON.stringify(SAFETENSORS_METADATA_KEY)}:{${entries.join(',')}}`);
  }
  const seen = new Set<string>();
  const laidOut: SafetensorsTensor[] = [];
  let offset = 0;
  for (const { name, dtype, shape } of tensors) {
    if (name === SAFETENSORS_METADATA_KEY) throw invalid(`a tensor cannot be named "${SAFETENSORS_METADATA_KEY}".`, name);
    if (seen.has(name)) throw invalid(`two tensors are named "${name}".`, name);
    seen.add(name);
    const bytesPerElement = safetensorsDtypeBytes(dtype);
    if (bytesPerElement === undefined) throw invalid(`"${name}" has unknown dtype ${JSON.stringify(dtype)}.`, name);
    const count = elementCount(shape);
    if (count === undefined) throw invalid(`"${name}" has shape ${JSON.stringify(shape)}.`, name);
    const end = offset + count * bytesPerElement;
    if (!Number.isSafeInteger(end)) throw invalid('the data section would exceed 2^53 bytes.', name);
    laidOut.push({ name, dtype, shape: [...shape], begin: offset, end });
    parts.push(`${JSON.stringify(name)}:{"dtype":${JSON.stringify(dtype)},"shape":${JSON.stringify(shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padding = (8 - (json.length % 8)) % 8;
  const headerLength = json.length + padding;
  if (headerLength > SAFETENSORS_MAX_HEADER_BYTES) {
    throw invalid(`the header would be ${headerLength} bytes, over the format's limit of ${SAFETENSORS_MAX_HEADER_BYTES}.`);
  }
  const bytes = new Uint8Array(8 + headerLength).fill(0x20); // padding: spaces, which JSON ignores
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  return {
    bytes,
    header: { metadata: { ...metadata }, tensors: laidOut, dataStart: 8 + headerLength, dataBytes: offset },
  };
}

/**
 * Reads the header length from a file's first 8 bytes and checks it against the format's
 * limit and the file's size. Returns the header length `N` (the JSON is bytes `8 … 8 + N`).
 *
 * @throws RectifyError `INVALID_STATE_DICT`.
 */
export function readSafetensorsHeaderLength(prefix: Uint8Array, fileBytes: number): number {
  if (prefix.length < 8 || fileBytes < 8) throw invalid(`the file has ${fileBytes} bytes, fewer than the 8 of its header length.`);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw invalid(`the header length is ${length} bytes, over the format's limit of ${SAFETENSORS_MAX_HEADER_BYTES}.`);
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileBytes) {
    throw invalid(`the header claims ${headerLength} bytes but the file has only ${fileBytes - 8} after its length (truncated).`);
  }
  return headerLength;
}

/** `true` when `bytes` (at least 9 of a file's first bytes) look like the start of a safetensors file. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return length <= BigInt(SAFETENSORS_MAX_HEADER_BYTES) && bytes[8] === 0x7b; // "{"
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates a header's JSON bytes (the `N` bytes after the length) for a file of
 * `fileBytes` bytes, as the reference reader does: UTF-8 JSON starting with `{`; a
 * `__metadata__` of strings; for every tensor a known dtype, a shape of non-negative
 * integers, and offsets that are contiguous from 0 without holes or overlaps and span exactly
 * `shape product × dtype size` bytes; data that ends exactly at the end of the file.
 *
 * @throws RectifyError `INVALID_STATE_DICT` naming the first problem.
 */
export function parseSafetensorsHeader(json: Uint8Array, fileBytes: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw invalid('the header is not UTF-8.');
  }
  if (!text.startsWith('{')) throw invalid('the header does not start with "{".');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('the header is not valid JSON (truncated or corrupt).');
  }
  if (!isRecord(parsed)) throw invalid('the header is not a JSON object.');
  const metadata = Object.create(null) as Record<string, string>;
  const tensors: SafetensorsTensor[] = [];
  for (const key of Object.keys(parsed)) {
    const value = parsed[key];
    if (key === SAFETENSORS_METADATA_KEY) {
      if (!isRecord(value)) throw invalid(`"${SAFETENSORS_METADATA_KEY}" must map strings to strings.`, key);
      for (const name of Object.keys(value)) {
        const entry = value[name];
        if (typeof entry !== 'string') throw invalid(`metadata "${name}" is not a string.`, name);
        metadata[name] = entry;
      }
      continue;
    }
    if (!isRecord(value)) throw invalid(`tensor "${key}" must be { dtype, shape, data_offsets }.`, key);
    const { dtype, shape, data_offsets: offsets } = value;
    const bytesPerElement = typeof dtype === 'string' ? safetensorsDtypeBytes(dtype) : undefined;
    if (bytesPerElement === undefined) throw invalid(`tensor "${key}" has unknown dtype ${JSON.stringify(dtype)}.`, key);
    const count = elementCount(shape);
    if (count === undefined) throw invalid(`tensor "${key}" has shape ${JSON.stringify(shape)}.`, key);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw invalid(`tensor "${key}" has data_offsets ${JSON.stringify(offsets)}.`, key);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw invalid(`tensor "${key}" ends (${end}) before it begins (${begin}).`, key);
    if (end - begin !== count * bytesPerElement) {
      throw invalid(
        `tensor "${key}" spans ${end - begin} bytes; ${dtype as string} of shape ${JSON.stringify(shape)} needs ${count * bytesPerElement}.`,
        key,
      );
    }
    tensors.push({ name: key, dtype: dtype as string, shape: [...(shape as number[])], begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.begin !== offset) {
      throw invalid(
        `tensor "${tensor.name}" begins at ${tensor.begin}, not at ${offset} where the previous data ends (a hole or an overlap).`,
        tensor.name,
      );
    }
    offset = tensor.end;
  }
  const dataStart = 8 + json.length;
  if (dataStart + offset !== fileBytes) {
    throw invalid(
      `the tensors hold ${offset} bytes but the file has ${fileBytes - dataStart} after the header (${dataStart + offset < fileBytes ? 'trailing data' : 'truncated'}).`,
    );
  }
  return { metadata: { ...metadata }, tensors, dataStart, dataBytes: offset };
}
