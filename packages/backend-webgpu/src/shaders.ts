/**
 * The WGSL of the backend, generated for a workgroup size and a number of storage pages.
 *
 * Every tensor lives in one of a few large storage buffers ("pages", see `arena.ts`),
 * 4-element aligned, so every kernel reads and writes `vec4<f32>`: a tensor's last vector
 * may reach into its own padding, which kernels compute on but never count (lanes past the
 * tensor's length are masked out of flags and sums). Work is described by a table of
 * chunks, one workgroup per chunk, each chunk a run of at most {@link chunkElements}
 * elements of one tensor: one dispatch covers any number of tensors.
 *
 * Non-finite detection uses the bit pattern (exponent all ones), never `isNan`-style
 * comparisons: WGSL lets implementations assume that floating-point values are finite,
 * and a compiler may fold `x != x` to `false`. A bitcast cannot be folded away.
 */

/** `vec4<f32>` loads each invocation makes per chunk: 16 elements, enough to hide latency. */
export const VECTORS_PER_INVOCATION = 4;

/** Batches whose scalars one update dispatch holds (its uniform block). */
export const BATCHES_PER_DISPATCH = 256;

/** Bytes of one batch's scalars in the update uniform: four `vec4`. */
export const SCALARS_BYTES = 64;

/** Bytes of the update uniform's header (`chunkBase, chunkCount, gridX, pad`). */
export const UPDATE_HEADER_BYTES = 16;

/** Bytes the update shader's uniform binding covers: header and {@link BATCHES_PER_DISPATCH} scalars. */
export const UPDATE_UNIFORM_BYTES = UPDATE_HEADER_BYTES + BATCHES_PER_DISPATCH * SCALARS_BYTES;

/** `u32` fields per update chunk: `p, g, m, v` (vec4 indices), `len`, `batch`, `pages`, pad. */
export const UPDATE_CHUNK_WORDS = 8;

/** `u32` fields per reduction chunk: `page`, `offset` (vec4 index), `len`, pad. */
export const REDUCE_CHUNK_WORDS = 4;

/** Flag bit an update or reduction sets for a ±Infinity element. */
export const FLAG_INFINITE = 1;
/** Flag bit a reduction sets for a NaN element. */
export const FLAG_NAN = 2;

/**
 * Elements one workgroup handles: `workgroupSize` invocations × 4 vectors × 4 lanes.
 *
 * @example
 * ```ts
 * chunkElements(256); // 4096
 * ```
 */
export function chunkElements(workgroupSize: number): number {
  return workgroupSize * VECTORS_PER_INVOCATION * 4;
}

/** Declarations of the pages and the `ld`/`st` helpers that select one by index. */
function pageAccess(pages: number, firstBinding: number, access: 'read' | 'read_write'): string {
  const lines: string[] = [];
  for (let k = 0; k < pages; k++) {
    lines.push(`@group(0) @binding(${firstBinding + k}) var<storage, ${access}> page${k}: array<vec4<f32>>;`);
  }
  // The page of a chunk is the same for the whole workgroup: the switch never diverges.
  const cases = (body: (k: number) => string): string =>
    pages === 1
      ? body(0)
      : `switch (page) {\n${Array.from({ length: pages }, (_, k) => `    ${k === pages - 1 ? 'default' : `case ${k}u`}: { ${body(k)} }`).join('\n')}\n  }`;
  lines.push(`fn ld(page: u32, i: u32) -> vec4<f32> {\n  ${cases((k) => `return page${k}[i];`)}\n}`);
  if (access === 'read_write') {
    lines.push(`fn st(page: u32, i: u32, x: vec4<f32>) {\n  ${cases((k) => `page${k}[i] = x;`)}\n}`);
  }
  return lines.join('\n');
}

const COMMON = /* wgsl */ `
const VPT: u32 = ${VECTORS_PER_INVOCATION}u;
const LANES = vec4<u32>(0u, 1u, 2u, 3u);

fn nonFinite(x: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(x) & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u);
}

fn isNan(x: vec4<f32>) -> vec4<bool> {
  let bits = bitcast<vec4<u32>>(x);
  return nonFinite(x) & ((bits & vec4<u32>(0x007fffffu)) != vec4<u32>(0u));
}
`;

/**
 * The fused RAdam update of `RAdamScalars` over every chunk of a step, in the order of
 * core's reference kernel (`fusedRAdamUpdate`): `g·gradScale`, value clip by two
 * comparisons (a NaN stays NaN), `+ weightDecay·p`, `p·paramScale`, the moments with
 * `((1 − β2)·g)·g` (not `g²` first: `g ≈ 1e20` fits that way), and a real branch for the
 * unrectified update (never `x·0`: `v` may be infinite). Reads `p, g, m, v` once, writes
 * `p, m, v` once, and ORs a flag when any stored element is not finite.
 *
 * @param workgroupSize - invocations per workgroup (a power of two within the device's limits).
 * @param pages - storage pages bound (bindings 3 …).
 * @example
 * ```ts
 * device.createShaderModule({ code: updateShader(256, 1) });
 * ```
 */
export function updateShader(workgroupSize: number, pages: number): string {
  return /* wgsl */ `${COMMON}
const WG: u32 = ${workgroupSize}u;

struct Chunk { p: u32, g: u32, m: u32, v: u32, len: u32, batch: u32, pages: u32, pad: u32 }

// gradScale, clipValue, weightDecay, paramScale | beta1, 1 − beta1, beta2, 1 − beta2 |
// stepSize, denomScale, eps, unused | clip, rectified, unused, unused
struct Scalars { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, flags: vec4<u32> }

struct Step { chunkBase: u32, chunkCount: u32, gridX: u32, pad: u32, batches: array<Scalars, ${BATCHES_PER_DISPATCH}> }

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> chunks: array<Chunk>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;
${pageAccess(pages, 3, 'read_write')}

@compute @workgroup_size(WG)
fn update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * step.gridX;
  if (c >= step.chunkCount) { return; }
  let chunk = chunks[step.chunkBase + c];
  let s = step.batches[chunk.batch];
  let gradScale = s.a.x;
  let clipValue = vec4<f32>(s.a.y);
  let weightDecay = s.a.z;
  let paramScale = s.a.w;
  let beta1 = s.b.x;
  let oneMinusBeta1 = s.b.y;
  let beta2 = s.b.z;
  let oneMinusBeta2 = s.b.w;
  let stepSize = s.c.x;
  let denomScale = s.c.y;
  let eps = s.c.z;
  let clip = s.flags.x != 0u;
  let rectified = s.flags.y != 0u;
  let pp = chunk.pages & 0xffu;
  let gp = (chunk.pages >> 8u) & 0xffu;
  let mp = (chunk.pages >> 16u) & 0xffu;
  let vp = chunk.pages >> 24u;
  var bad = false;
  for (var k = 0u; k < VPT; k++) {
    let j = lid + k * WG;
    let first = j * 4u;
    if (first >= chunk.len) { break; }
    var g = ld(gp, chunk.g + j) * gradScale;
    if (clip) {
      g = select(g, clipValue, g > clipValue);
      g = select(g, -clipValue, g < -clipValue);
    }
    let p = ld(pp, chunk.p + j);
    g = g + weightDecay * p;
    let m = beta1 * ld(mp, chunk.m + j) + oneMinusBeta1 * g;
    let v = beta2 * ld(vp, chunk.v + j) + (oneMinusBeta2 * g) * g;
    var update = stepSize * m;
    if (rectified) {
      update = update / (sqrt(v) * denomScale + eps);
    }
    let pNew = p * paramScale - update;
    st(pp, chunk.p + j, pNew);
    st(mp, chunk.m + j, m);
    st(vp, chunk.v + j, v);
    let valid = vec4<u32>(first) + LANES < vec4<u32>(chunk.len);
    bad = bad || any((nonFinite(pNew) | nonFinite(m) | nonFinite(v)) & valid);
  }
  if (bad) { atomicOr(&flags[0], ${FLAG_INFINITE}u); }
}
`;
}

/**
 * Exponents of the three bins of {@link reduceShader}'s sum of squares (Blue's scaled
 * norm): `|x| < 2^SMALL_BELOW` is squared after scaling by `2^SMALL_SCALE`, `|x| >=
 * 2^BIG_FROM` after scaling by `2^BIG_SCALE`, the rest as it is. Every scaled square then
 * lies within float32's normal range, and a chunk's sum of each bin stays below 2^124.
 */
export const SUM_BINS = { SMALL_BELOW: -56, SMALL_SCALE: 64, BIG_FROM: 56, BIG_SCALE: -72 } as const;

/**
 * `vec4<f32>` loads each invocation of a reduction makes per chunk: 64 elements, so a
 * reduction chunk is 4 × {@link chunkElements} and the per-invocation partials it writes
 * are 1/16 of what it reads.
 */
export const REDUCE_VECTORS_PER_INVOCATION = 16;

/**
 * Elements one reduction workgroup handles: `workgroupSize × 64`.
 *
 * @example
 * ```ts
 * reduceChunkElements(256); // 16384
 * ```
 */
export function reduceChunkElements(workgroupSize: number): number {
  return workgroupSize * REDUCE_VECTORS_PER_INVOCATION * 4;
}

/**
 * The reductions over a table of chunks, one workgroup per chunk, without a single
 * workgroup barrier (software GPUs run a workgroup that has one as coroutines, which made
 * a tree in workgroup memory 300× slower than the update on SwiftShader):
 *
 * - `sumOfSquares` (level 1): each invocation sums the squares of its strided elements in
 *   three bins (small, medium and big magnitudes, each scaled by a fixed power of two into
 *   float32's range: see {@link SUM_BINS}), so `|x|` from the smallest normal float to
 *   float32's maximum neither overflows nor underflows, in one pass with no
 *   data-dependent scaling, and writes them to `lanes`.
 * - `combine` (level 2, the next dispatch of the same pass): one invocation per chunk adds
 *   the chunk's lane sums in lane order into `partials`; the host adds the chunks' partials
 *   in chunk order in float64. A fixed order at every level: the same result on every run.
 * - `allFinite` ORs a flag when any element is not finite; `sumOfSquares` ORs
 *   {@link FLAG_INFINITE} or {@link FLAG_NAN}, so the host can answer `Infinity` or `NaN`.
 *
 * @example
 * ```ts
 * device.createShaderModule({ code: reduceShader(256, 1) });
 * ```
 */
export function reduceShader(workgroupSize: number, pages: number): string {
  const f32 = (exponent: number): string => (2 ** exponent).toExponential(); // a float literal, never an integer one
  return /* wgsl */ `${COMMON}
const WG: u32 = ${workgroupSize}u;
const RVPT: u32 = ${REDUCE_VECTORS_PER_INVOCATION}u;
const SMALL_BELOW = ${f32(SUM_BINS.SMALL_BELOW)};
const SMALL_SCALE = ${f32(SUM_BINS.SMALL_SCALE)};
const BIG_FROM = ${f32(SUM_BINS.BIG_FROM)};
const BIG_SCALE = ${f32(SUM_BINS.BIG_SCALE)};

struct Chunk { page: u32, offset: u32, len: u32, pad: u32 }
// gridX: workgroups per row of the level-1 grid; combineGridX: of the level-2 grid.
struct Step { chunkCount: u32, gridX: u32, combineGridX: u32, pad: u32 }

@group(0) @binding(0) var<uniform> step: Step;
@group(0) @binding(1) var<storage, read> chunks: array<Chunk>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;
// Per invocation of level 1 (then per chunk, from index 0, after level 2): sums of
// squares of the small, medium and big bins (w unused).
@group(0) @binding(3) var<storage, read_write> lanes: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
${pageAccess(pages, 5, 'read')}

fn squares(x: vec4<f32>) -> f32 {
  return (x.x * x.x + x.y * x.y) + (x.z * x.z + x.w * x.w);
}

@compute @workgroup_size(WG)
fn sumOfSquares(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * step.gridX;
  if (c >= step.chunkCount) { return; }
  let chunk = chunks[c];
  var acc = vec4<f32>(0.0);
  var nonFiniteSeen = false;
  var nanSeen = false;
  for (var k = 0u; k < RVPT; k++) {
    let j = lid + k * WG;
    let first = j * 4u;
    if (first >= chunk.len) { break; }
    let valid = vec4<u32>(first) + LANES < vec4<u32>(chunk.len);
    let x = ld(chunk.page, chunk.offset + j);
    let bad = nonFinite(x) & valid;
    nanSeen = nanSeen || any(isNan(x) & valid);
    nonFiniteSeen = nonFiniteSeen || any(bad);
    // Padding and non-finite lanes count as 0 (the flags carry the latter).
    let a = select(vec4<f32>(0.0), abs(x), valid & !bad);
    let small = a < vec4<f32>(SMALL_BELOW);
    let big = a >= vec4<f32>(BIG_FROM);
    acc.x = acc.x + squares(select(vec4<f32>(0.0), a * SMALL_SCALE, small));
    acc.y = acc.y + squares(select(a, vec4<f32>(0.0), small | big));
    acc.z = acc.z + squares(select(vec4<f32>(0.0), a * BIG_SCALE, big));
  }
  lanes[c * WG + lid] = acc;
  if (nonFiniteSeen) { atomicOr(&flags[0], select(${FLAG_INFINITE}u, ${FLAG_NAN}u, nanSeen)); }
}

@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = (wid.x + wid.y * step.combineGridX) * WG + lid;
  if (c >= step.chunkCount) { return; }
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < WG; k++) { s = s + lanes[c * WG + k]; }
  partials[c] = s;
}

@compute @workgroup_size(WG)
fn allFinite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * step.gridX;
  if (c >= step.chunkCount) { return; }
  let chunk = chunks[c];
  var bad = false;
  for (var k = 0u; k < RVPT; k++) {
    let j = lid + k * WG;
    let first = j * 4u;
    if (first >= chunk.len) { break; }
    let valid = vec4<u32>(first) + LANES < vec4<u32>(chunk.len);
    bad = bad || any(nonFinite(ld(chunk.page, chunk.offset + j)) & valid);
  }
  if (bad) { atomicOr(&flags[0], ${FLAG_INFINITE}u); }
}
`;
}
