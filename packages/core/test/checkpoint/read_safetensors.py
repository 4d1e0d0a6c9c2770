#!/usr/bin/env python3
"""An independent safetensors reader, written from the published format
(https://github.com/huggingface/safetensors#format), not from Rectify's code.

    python3 read_safetensors.py FILE [--values]

Checks the header's invariants and prints one JSON object on stdout:
{"metadata": {...}, "tensors": [{"name", "dtype", "shape", "sha256", "values"?}, ...]}
with the tensors in data order, "sha256" the digest of each tensor's raw bytes, and, with
--values, every element as decoded by NumPy (little-endian). Exits 1 with a message on
stderr when the file breaks the format.
"""
import hashlib
import json
import struct
import sys

import numpy as np

MAX_HEADER = 100_000_000  # the reference implementation's MAX_HEADER_SIZE
DTYPES = {
    "BOOL": "?", "U8": "<u1", "I8": "<i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8",
}


def fail(message):
    print(f"invalid safetensors file: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    path = sys.argv[1]
    with_values = "--values" in sys.argv[2:]
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail("shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER:
        fail(f"header length {n} over {MAX_HEADER}")
    if 8 + n > len(data):
        fail("header runs past the end of the file")
    if (8 + n) % 8 != 0:
        fail(f"data starts at byte {8 + n}, not 8-byte aligned")
    raw = data[8 : 8 + n]
    if not raw.startswith(b"{"):
        fail("header does not start with '{'")
    header = json.loads(raw.decode("utf-8"))
    if not isinstance(header, dict):
        fail("header is not an object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        fail("__metadata__ is not a map of strings to strings")
    body = data[8 + n :]
    entries = sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"]))
    tensors = []
    expected_begin = 0
    for name, info in entries:
        dtype = np.dtype(DTYPES.get(info["dtype"]) or fail(f"{name}: unknown dtype {info['dtype']}"))
        shape = info["shape"]
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            fail(f"{name}: bad shape {shape}")
        begin, end = info["data_offsets"]
        if begin != expected_begin:
            fail(f"{name}: begins at {begin}, expected {expected_begin} (hole or overlap)")
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize:
            fail(f"{name}: {end - begin} bytes for {count} elements of {info['dtype']}")
        expected_begin = end
        chunk = body[begin:end]
        array = np.frombuffer(chunk, dtype=dtype, count=count).reshape(shape)
        tensor = {
            "name": name,
            "dtype": info["dtype"],
            "shape": list(array.shape),
            "sha256": hashlib.sha256(chunk).hexdigest(),
        }
        if with_values:
            tensor["values"] = [float(x) for x in array.astype(np.float64).ravel()]
        tensors.append(tensor)
    if expected_begin != len(body):
        fail(f"tensors cover {expected_begin} bytes, the data section has {len(body)}")
    json.dump({"metadata": metadata, "tensors": tensors}, sys.stdout)


if __name__ == "__main__":
    main()
