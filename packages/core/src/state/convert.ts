import type { HostArray } from '../backend.js';
import { encodeArray, type EncodedArray } from './encoding.js';
import { decodeStateArray } from './load-plan.js';
import type { ParamStateEntry, RAdamBinaryStateDict, RAdamStateDict } from './state-dict.js';
import { STATE_TENSOR_ROLES } from './state-stream.js';


function mapArrays<A, Z>(dict: RAdamStateDict<A>, convert: (array: A, where: string) => Z): RAdamStateDict<Z> {
  const params = Object.create(null) as Record<string, ParamStateEntry<Z>>;
  for (const name of Object.keys(dict.params)) {
    const entry = dict.params[name]!;
    const out: Record<string, unknown> = { ...entry };
    for (const field of STATE_TENSOR_ROLES) {
      const array = entry[field];
      if (array !== undefined) out[field] = convert(array, `${name}.${field}`);
    }
    params[name] = out as unknown as ParamStateEntry<Z>;
  }
  return { ...dict, params };
}

/**
 * The binary form of a JSON state dict: the same content, every base64 array decoded to
 * a typed array. Lossless: {@link toJsonStateDict} gives back the same bytes.
 *
 * @throws RectifyError `INVALID_STATE_DICT` for an array that is not valid base64 data.
 */
export function toBinaryStateDict(dict: RAdamStateDict): RAdamBinaryStateDict {
  return mapArrays<EncodedArray, HostArray>(dict, (array, where) => decodeStateArray(array, where));
}

/** The JSON form of a binary state dict: every typed array as base64 (see {@link toBinaryStateDict}). */
export function toJsonStateDict(dict: RAdamBinaryStateDict): RAdamStateDict {
  return mapArrays<HostArray, EncodedArray>(dict, (array) => encodeArray(array));
}
