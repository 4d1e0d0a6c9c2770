/**
 * The roofline: how fast this machine can run RAdam's access pattern at all. A float32
 * step reads p, g, m, v and writes p, m, v in place: 4 read streams and 3 write streams,
 * 28 bytes per element. The native program (native.ts) runs exactly that pattern with
 * almost no arithmetic, on every thread, at two working sets: one far beyond the caches
 * (DRAM) and one that the caches hold. A copy bandwidth divided by 28 is not the limit:
 * one read and one write stream to lines never read is another pattern (it came out
 * about half the real figure here).
 */
import { availableParallelism } from 'node:os';
import { nativeRoofline, nativeTools } from './native.js';

/** Bytes a float32 RAdam step moves per element: reads p, g, m, v and writes p, m, v. */
export const BYTES_PER_ELEMENT = 28;

/**
 * Working sets (at {@link BYTES_PER_ELEMENT} per element) up to this size count as cache
 * resident. Measured, not read from the OS: these VMs report a 480 MiB L3 while the
 * throughput cliff is at about 100 MB.
 */
export const CACHE_BYTES = 100e6;

/** Elements of the DRAM measurement: 4 arrays × 4 B × 1e8 = 1.6 GB, far beyond any cache. */
export const DRAM_ELEMENTS = 1e8;
/** Elements of the cache measurement: 16 MB of arrays, 28 MB moved per pass. */
export const CACHE_ELEMENTS = 1e6;

/** Which roofline a workload is held to. */
export type Regime = 'cache' | 'dram';

/** One measured roofline. */
export interface RooflinePoint {
  readonly regime: Regime;
  /** Elements per pass of the measurement. */
  readonly elements: number;
  readonly threads: number;
  readonly elementsPerSecond: number;
  /** `elementsPerSecond × 28`: bytes read plus bytes written. */
  readonly bytesPerSecond: number;
}

/** Both rooflines, each measured or unavailable with the reason. */
export interface Roofline {
  readonly cache: RooflinePoint | undefined;
  readonly dram: RooflinePoint | undefined;
  /** Why the rooflines are missing (no C compiler, a failed run); `undefined` when measured. */
  readonly unavailable: string | undefined;
}

/** The regime of a step over `elements` elements in all: cache when 28 B × elements fit {@link CACHE_BYTES}. */
export function regimeOf(elements: number): Regime {
  return elements * BYTES_PER_ELEMENT <= CACHE_BYTES ? 'cache' : 'dram';
}

/** A measured pass of `elements` in `seconds` as a roofline point. */
export function rooflinePoint(regime: Regime, elements: number, threads: number, seconds: number): RooflinePoint {
  const elementsPerSecond = elements / seconds;
  return { regime, elements, threads, elementsPerSecond, bytesPerSecond: elementsPerSecond * BYTES_PER_ELEMENT };
}

/**
 * `elementsPerSecond` of a step over `elements` elements as a fraction of the roofline of
 * its regime (`bytesPerElement` 56 for a float64 backend: half the elements per second);
 * `undefined` when that roofline was not measured.
 */
export function rooflineFraction(
  roofline: Roofline,
  elements: number,
  elementsPerSecond: number,
  bytesPerElement: number = BYTES_PER_ELEMENT,
): { fraction: number; regime: Regime } | undefined {
  const regime = regimeOf(elements);
  const point = roofline[regime];
  if (point === undefined) return undefined;
  return { fraction: (elementsPerSecond * bytesPerElement) / point.bytesPerSecond, regime };
}

/**
 * Measures the rooflines of the given regimes with the native program's native-width build
 * on every thread; a regime not asked for stays `undefined`.
 */
export async function measureRoofline(regimes: readonly Regime[], log: (line: string) => void): Promise<Roofline> {
  const tools = await nativeTools();
  if ('unavailable' in tools) {
    log(`roofline: not measured (${tools.unavailable})`);
    return { cache: undefined, dram: undefined, unavailable: tools.unavailable };
  }
  const threads = availableParallelism();
  const points: Partial<Record<Regime, RooflinePoint>> = {};
  try {
    for (const regime of new Set(regimes)) {
      const elements = regime === 'dram' ? DRAM_ELEMENTS : CACHE_ELEMENTS;
      const timing = await nativeRoofline(tools.native, elements, threads, regime === 'dram' ? 7 : 51);
      const point = rooflinePoint(regime, elements, threads, timing.medianSeconds);
      points[regime] = point;
      log(`roofline (${regime}, ${elements.toExponential(0)} elements, ${threads} threads): ${(point.elementsPerSecond / 1e6).toFixed(0)} M elements/s, ${(point.bytesPerSecond / 1e9).toFixed(1)} GB/s`);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`roofline: ${reason}`);
    return { cache: points.cache, dram: points.dram, unavailable: reason };
  }
  return { cache: points.cache, dram: points.dram, unavailable: undefined };
}
