/** RAdam's variance-rectification terms for step `t` (SPEC.md step 5), in float64. */
export interface Rectification {
  /** `ρ∞ = 2/(1−β2) − 1`: the length of the SMA at infinity. */
  readonly rhoInfinity: number;
  /** `ρt = ρ∞ − 2·t·β2^t / (1−β2^t)`. */
  readonly rhoT: number;
  /** `r = sqrt((ρt−4)(ρt−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρt))`; NaN when `ρt <= 4` (not defined). */
  readonly r: number;
  /** `1 − β1^t`. */
  readonly biasCorrection1: number;
  /** `1 − β2^t`. */
  readonly biasCorrection2: number;
}

/** Computes {@link Rectification} for the `t`-th step (`t >= 1`). */
export function rectification(beta1: number, beta2: number, t: number): Rectification {
  const beta2t = beta2 ** t;
  const biasCorrection2 = 1 - beta2t;
  const rhoInfinity = 2 / (1 - beta2) - 1;
  const rhoT = rhoInfinity - (2 * t * beta2t) / biasCorrection2;
  const r = Math.sqrt(
    ((rhoT - 4) * (rhoT - 2) * rhoInfinity) / ((rhoInfinity - 4) * (rhoInfinity - 2) * rhoT),
  );
  return { rhoInfinity, rhoT, r, biasCorrection1: 1 - beta1 ** t, biasCorrection2 };
}
