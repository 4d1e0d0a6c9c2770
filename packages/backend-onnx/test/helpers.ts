/** A deterministic pseudo-random sequence in (−scale, scale) (no Math.random: failures must reproduce). */
export function series(n: number, seed: number, scale = 1): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648 - 0.5) * 2 * scale;
  });
}

/**
 * The largest `|a − b| / max(1, |b|)` over two arrays of equal length: absolute below 1,
 * relative above, so huge values (|g| = 1e20 gives |v| ≈ 1e37) are judged by float32's
 * relative precision. NaN anywhere gives NaN, which fails every `toBeLessThan`.
 */
export function worstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (Number.isNaN(d)) return NaN;
    if (d > worst) worst = d;
  }
  return worst;
}

/** Resolves after `n` turns of the event loop (each ONNX Runtime run takes one). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}
