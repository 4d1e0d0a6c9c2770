/** Bytes a float32 RAdam step moves per element: reads p, g, m, v and writes p, m, v. */
export const BYTES_PER_ELEMENT = 28;

/** The most elements per second a step can update at `bytesPerSecond` of memory bandwidth. */
export function rooflineElementsPerSecond(bytesPerSecond: number): number {
  return bytesPerSecond / BYTES_PER_ELEMENT;
}

/** `elementsPerSecond` as a fraction of the roofline at `bytesPerSecond`. */
export function rooflineFraction(elementsPerSecond: number, bytesPerSecond: number): number {
  return elementsPerSecond / rooflineElementsPerSecond(bytesPerSecond);
}
