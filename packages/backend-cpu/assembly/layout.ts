// Where the main thread and the workers meet: a control block in the first 64 KiB page
// of the shared memory. The JavaScript side reads these addresses from the module's
// exported globals (see radam.ts), so this file is their only definition.
//
// Each futex word sits on its own 64-byte cache line: the workers spin on GENERATION
// while the main thread waits on CHUNKS_DONE, and false sharing would slow both.

/**
 * i32 job number, published by the main thread after the job descriptor is written;
 * workers wait on it. Job numbers only grow (modulo 2^32).
 */
export const GENERATION: u32 = 0;
/** i32 set to 1 to make the workers leave their loop. */
export const STOP: u32 = 4;
/** i32 set to 1 by a worker whose kernel call trapped during the current job. */
export const FAILED: u32 = 8;
/** i32 chunks finished in the current job; the main thread waits on it. */
export const CHUNKS_DONE: u32 = 64;
/**
 * u64 claim word: the job number in the high half, the next chunk to take in the low
 * half. A thread takes a chunk with a compare-and-swap that also checks the job number,
 * so a worker that wakes up after its job is over can never take a chunk of the next
 * job with the previous job's descriptor in hand: the main thread need not wait for idle
 * workers, only for the chunks.
 */
export const CLAIM: u32 = 128;

/** Job descriptor, written by the main thread before it publishes GENERATION. */
export const JOB_KIND: u32 = 192;
/** u32 address of the slot table (SLOT_BYTES per slot). */
export const JOB_TABLE: u32 = 196;
/** u32 number of slots in the table. */
export const JOB_SLOTS: u32 = 200;
/** u32 number of chunks the global element range is cut into. */
export const JOB_CHUNKS: u32 = 204;
/** u32 elements per chunk (a multiple of 4). */
export const JOB_CHUNK_ELEMENTS: u32 = 208;
/** u32 address of one f64 per chunk: the partial sums of a sum-of-squares job. */
export const JOB_RESULTS: u32 = 212;
/**
 * i32 set to 1 by a thread that met NaN or ±Infinity: in an all-finite job, in a tensor
 * read; in a RAdam job, in a value it stored (p, m or v). Cleared by the main thread
 * before the job, set before the chunk is counted as finished, so the main thread reads
 * it once all chunks are.
 */
export const JOB_NON_FINITE: u32 = 216;
/** u32 elements in the job (the END of the last slot). */
export const JOB_TOTAL: u32 = 220;

/**
 * The scalars of one RAdam batch (one parameter group and step count), SCALARS_BYTES at
 * the address a slot's SLOT_SCALARS holds: 11 f32 at the SCALAR_* indices, then the
 * rectified flag as an i32 at index SCALAR_RECTIFIED. One job carries every batch of an
 * optimizer step, each slot pointing at its batch's scalars.
 */
export const SCALARS_BYTES: u32 = 48;
export const SCALAR_GRAD_SCALE: u32 = 0;
export const SCALAR_CLIP_VALUE: u32 = 1;
export const SCALAR_WEIGHT_DECAY: u32 = 2;
export const SCALAR_PARAM_SCALE: u32 = 3;
export const SCALAR_BETA1: u32 = 4;
export const SCALAR_ONE_MINUS_BETA1: u32 = 5;
export const SCALAR_BETA2: u32 = 6;
export const SCALAR_ONE_MINUS_BETA2: u32 = 7;
export const SCALAR_STEP_SIZE: u32 = 8;
export const SCALAR_DENOM_SCALE: u32 = 9;
export const SCALAR_EPS: u32 = 10;
/** i32 1 when the batch's step is rectified. */
export const SCALAR_RECTIFIED: u32 = 11;

/** Job kinds. */
export const KIND_RADAM: i32 = 0;
export const KIND_SUM_OF_SQUARES: i32 = 1;
export const KIND_ALL_FINITE: i32 = 2;

/**
 * One slot of the table: u32 addresses of p, g, m, v (a reduction job uses p only), then
 * the slot's [begin, end) in the global element index space of the job, then (RAdam
 * jobs) the u32 address of its batch's scalars.
 */
export const SLOT_BYTES: u32 = 32;
export const SLOT_P: u32 = 0;
export const SLOT_G: u32 = 4;
export const SLOT_M: u32 = 8;
export const SLOT_V: u32 = 12;
export const SLOT_BEGIN: u32 = 16;
export const SLOT_END: u32 = 20;
export const SLOT_SCALARS: u32 = 24;

/** Bytes below which the allocator never hands out memory (the control block lives there). */
export const RESERVED_BYTES: u32 = 65536;
