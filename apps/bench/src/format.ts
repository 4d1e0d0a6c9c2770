/** `1234567` → `1.23 M`, for elements per second and the like (3 significant digits). */
export function formatRate(perSecond: number): string {
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, unit] of units) if (perSecond >= scale) return `${(perSecond / scale).toPrecision(3)} ${unit}`;
  return perSecond.toPrecision(3);
}

/** Millions, 3 significant digits: `1.23e8` → `123`. */
export function formatMillions(perSecond: number): string {
  const millions = perSecond / 1e6;
  return millions >= 100 ? millions.toFixed(0) : millions.toPrecision(3);
}

/** `0.8123` → `81%`. */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(0)}%`;
}

/** A shape as a table heading: `1e6` or `1000 × 1000`. */
export function formatShape(size: number, tensors: number): string {
  const exponent = Math.log10(size);
  const sizeText = Number.isInteger(exponent) && size >= 1000 ? `1e${exponent}` : size.toLocaleString('en-US');
  return tensors === 1 ? sizeText : `${tensors} × ${size}`;
}

/** Bytes per second as GB/s (decimal), 1 decimal. */
export function formatGBps(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e9).toFixed(1)} GB/s`;
}

/** A power of ten as an axis label: `1e3` → `1k`, `1e7` → `10M`. */
export function formatDecade(value: number): string {
  const exponent = Math.round(Math.log10(value));
  const units = ['', 'k', 'M', 'G', 'T'];
  const unit = units[Math.floor(exponent / 3)];
  return unit === undefined ? `1e${exponent}` : `${10 ** (exponent % 3)}${unit}`;
}
