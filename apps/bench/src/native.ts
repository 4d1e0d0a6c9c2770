/**
 * The native reference (native/radam-step.c): built at run time with the system's `cc`
 * into the OS temporary directory (once per source, flags and compiler: the build is
 * cached), never at install or test time. Two builds: vectors limited to 128 bits (what
 * WebAssembly SIMD allows) and the machine's native width. Each build's assembly is
 * scanned for the widest vector register it uses, so the 128-bit claim is checked.
 */
import type { RAdamScalars } from '@rectify/core';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureText, lastJsonLine, runProcess } from './child-process.js';

const SOURCE = fileURLToPath(new URL('../native/radam-step.c', import.meta.url));
/** Flags of both builds: no fused multiply-add (WebAssembly has none), sqrtf without errno (so it vectorizes). */
const COMMON_FLAGS = ['-O3', '-ffp-contract=off', '-fno-math-errno', '-pthread'];

/** One build of the reference program. */
export interface NativeBuild {
  /** `simd128`: vectors limited to 128 bits; `native`: the machine's widest. */
  readonly kind: 'simd128' | 'native';
  readonly executable: string;
  readonly flags: readonly string[];
  /** Widest vector register in the build's assembly (x86-64: xmm 128, ymm 256, zmm 512); `null` where not checked. */
  readonly vectorBits: number | null;
}

/** Both builds and the compiler that made them. */
export interface NativeTools {
  readonly compiler: string;
  readonly simd128: NativeBuild;
  readonly native: NativeBuild;
}

/** A build that could not be made, and why. */
export interface Unavailable {
  readonly unavailable: string;
}

/** A timed run of the reference program (`step` or `roofline`). */
export interface NativeTiming {
  readonly mode: 'step' | 'roofline';
  readonly threads: number;
  readonly tensors: number;
  readonly elements: number;
  readonly rounds: number;
  /** Median seconds per run over the timed rounds (after 3 warm-up runs). */
  readonly medianSeconds: number;
  readonly minSeconds: number;
  /** Every stored value was finite. */
  readonly finite: boolean;
}

/** The scalars of one step: core's own `RAdamScalars`, which the C step takes in the same order. */
export type CheckScalars = RAdamScalars;

/** What `check` returns: p, m and v after one step (`null` for a non-finite value). */
export interface NativeCheck {
  readonly finite: boolean;
  readonly p: readonly (number | null)[];
  readonly m: readonly (number | null)[];
  readonly v: readonly (number | null)[];
}

/** Widest vector register an x86-64 assembly listing names, in bits; `null` when it names none. */
export function widestVectorBits(assembly: string): number | null {
  if (/%zmm\d/.test(assembly)) return 512;
  if (/%ymm\d/.test(assembly)) return 256;
  if (/%xmm\d/.test(assembly)) return 128;
  return null;
}

/** The flags of each build on this architecture (x86-64: the vector width is chosen; elsewhere both are the default). */
export function buildFlags(arch: string): { simd128: string[]; native: string[] } {
  if (arch === 'x64') {
    // `-mno-avx512f`: on an AVX-512 CPU, GCC still spills a struct copy through a zmm
    // register despite the preferred width; WebAssembly SIMD (what V8 emits) has no AVX-512.
    return {
      simd128: ['-march=native', '-mprefer-vector-width=128', '-mno-avx512f'],
      native: ['-march=native', '-mprefer-vector-width=512'],
    };
  }
  // AArch64's NEON is 128 bits wide, the same as WebAssembly SIMD: one build serves both.
  return { simd128: ['-mcpu=native'], native: ['-mcpu=native'] };
}

async function compile(kind: NativeBuild['kind'], flags: readonly string[], version: string, dir: string): Promise<NativeBuild> {
  const allFlags = [...COMMON_FLAGS, ...flags];
  const key = createHash('sha256').update(readFileSync(SOURCE)).update(allFlags.join(' ')).update(version).digest('hex').slice(0, 16);
  const base = join(dir, `radam-step-${kind}-${key}`);
  const assembly = `${base}.s`;
  if (!existsSync(base)) {
    // Through assembly, so that the very code that runs is the code scanned for its vector width.
    const temp = `${base}.${process.pid}`;
    const toAssembly = await runProcess('cc', [...allFlags, '-S', SOURCE, '-o', `${temp}.s`]);
    if (toAssembly.code !== 0) throw new Error(`cc ${allFlags.join(' ')} failed: ${failureText(toAssembly)}`);
    const link = await runProcess('cc', ['-pthread', `${temp}.s`, '-o', temp, '-lm']);
    if (link.code !== 0) throw new Error(`cc (link) failed: ${failureText(link)}`);
    renameSync(`${temp}.s`, assembly);
    renameSync(temp, base);
  }
  const vectorBits = process.arch === 'x64' ? widestVectorBits(readFileSync(assembly, 'utf8')) : null;
  return { kind, executable: base, flags: allFlags, vectorBits };
}

let tools: Promise<NativeTools | Unavailable> | undefined;

async function buildOnce(): Promise<NativeTools | Unavailable> {
  let version: string;
  try {
    const result = await runProcess('cc', ['--version']);
    if (result.code !== 0) return { unavailable: `cc --version failed: ${failureText(result)}` };
    version = result.stdout.split('\n')[0]!.trim();
  } catch (error) {
    return { unavailable: `no C compiler (cc): ${error instanceof Error ? error.message : String(error)}` };
  }
  const dir = join(tmpdir(), 'rectify-bench-native');
  mkdirSync(dir, { recursive: true });
  const flags = buildFlags(process.arch);
  try {
    const simd128 = await compile('simd128', flags.simd128, version, dir);
    if (simd128.vectorBits !== null && simd128.vectorBits > 128) {
      return { unavailable: `the 128-bit build uses ${simd128.vectorBits}-bit registers (${simd128.flags.join(' ')})` };
    }
    const native = await compile('native', flags.native, version, dir);
    return { compiler: version, simd128, native };
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}

/** Builds both programs (once per process), or says why it cannot. */
export function nativeTools(): Promise<NativeTools | Unavailable> {
  tools ??= buildOnce();
  return tools;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and checks the JSON line of a timed run; throws naming what is missing. */
export function parseNativeTiming(text: string): NativeTiming {
  const json = lastJsonLine(text);
  if (!isRecord(json) || (json['mode'] !== 'step' && json['mode'] !== 'roofline')) throw new Error(`radam-step printed no timing: ${text.trim().slice(0, 200)}`);
  for (const key of ['threads', 'tensors', 'elements', 'rounds', 'medianSeconds', 'minSeconds']) {
    const value = json[key];
    if (typeof value !== 'number' || !(value > 0)) throw new Error(`radam-step: "${key}" is ${JSON.stringify(value)}, not a positive number`);
  }
  if (typeof json['finite'] !== 'boolean') throw new Error('radam-step: "finite" is missing');
  return json as unknown as NativeTiming;
}

/** Parses the JSON line of `check`; throws when it is not one. */
export function parseNativeCheck(text: string): NativeCheck {
  const json = lastJsonLine(text);
  const numbers = (value: unknown): value is (number | null)[] => Array.isArray(value) && value.every((x) => x === null || typeof x === 'number');
  if (!isRecord(json) || json['mode'] !== 'check' || typeof json['finite'] !== 'boolean' || !numbers(json['p']) || !numbers(json['m']) || !numbers(json['v'])) {
    throw new Error(`radam-step printed no check result: ${text.trim().slice(0, 200)}`);
  }
  return { finite: json['finite'], p: json['p'], m: json['m'], v: json['v'] };
}

async function runTimed(build: NativeBuild, args: readonly string[], input: string | undefined): Promise<NativeTiming> {
  const result = await runProcess(build.executable, args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`radam-step ${args[0]}: ${failureText(result)}`);
  return parseNativeTiming(result.stdout);
}

/** Times one RAdam step over tensors of `sizes` elements (each allocated on its own) on `threads` threads. */
export function nativeStep(build: NativeBuild, sizes: readonly number[], threads: number, rounds: number): Promise<NativeTiming> {
  return runTimed(build, ['step', String(threads), String(rounds)], `${sizes.join('\n')}\n`);
}

/** Times the roofline pattern (read p, g, m, v; write p, m, v) over `elements` elements on `threads` threads. */
export function nativeRoofline(build: NativeBuild, elements: number, threads: number, rounds: number): Promise<NativeTiming> {
  return runTimed(build, ['roofline', String(threads), String(rounds), String(elements)], undefined);
}

/** One step of the C kernel over the given float32 values, the element range cut into `threads` shares. */
export async function nativeCheck(
  build: NativeBuild,
  scalars: CheckScalars,
  arrays: { readonly p: ArrayLike<number>; readonly g: ArrayLike<number>; readonly m: ArrayLike<number>; readonly v: ArrayLike<number> },
  threads: number,
): Promise<NativeCheck> {
  const s = scalars;
  const header = [arrays.p.length, s.gradScale, s.clipValue, s.weightDecay, s.paramScale, s.beta1, s.beta2, s.stepSize, s.denomScale, s.eps, s.rectified ? 1 : 0];
  // %.9g round-trips float32; scanf reads "inf".
  const text = (values: ArrayLike<number>): string => Array.from(values, (x) => (Number.isFinite(x) ? x.toPrecision(9) : String(x).replace('Infinity', 'inf'))).join(' ');
  const input = `${header.map((x) => (x === Infinity ? 'inf' : String(x))).join(' ')}\n${[arrays.p, arrays.g, arrays.m, arrays.v].map(text).join('\n')}\n`;
  const result = await runProcess(build.executable, ['check', String(threads)], { input });
  if (result.code !== 0) throw new Error(`radam-step check: ${failureText(result)}`);
  return parseNativeCheck(result.stdout);
}
