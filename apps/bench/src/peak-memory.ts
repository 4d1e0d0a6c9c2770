import { readFileSync, writeFileSync } from 'node:fs';

/** Peak resident memory of a stretch of this process above its resident memory at the start. */
export interface PeakMemory {
  /** Peak resident memory during the stretch above {@link baselineRssBytes}. */
  readonly peakExtraBytes: number;
  /** How the peak was measured: the kernel's high-water mark, or sampling every millisecond. */
  readonly peakMethod: 'VmHWM' | 'sampled';
  /** Resident memory at the start. */
  readonly baselineRssBytes: number;
}

/** Resets the kernel's peak-RSS counter (Linux), so that VmHWM tells the peak of what follows. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function highWaterMark(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring: collects garbage (when Node runs with `--expose-gc`), takes the
 * resident memory as the baseline and resets the kernel's high-water mark; `stop()` ends
 * the stretch. Where the kernel has no resettable mark, RSS is sampled every millisecond
 * (the event loop must then turn for samples to be taken).
 */
export function startPeakMemory(): { stop(): PeakMemory } {
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage.rss();
  const kernel = resetPeak();
  let sampled = baseline;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 1);
  return {
    stop: () => {
      clearInterval(sampler);
      const mark = kernel ? highWaterMark() : undefined;
      const peak = mark ?? Math.max(sampled, process.memoryUsage.rss());
      return { peakExtraBytes: Math.max(0, peak - baseline), peakMethod: mark === undefined ? 'sampled' : 'VmHWM', baselineRssBytes: baseline };
    },
  };
}
