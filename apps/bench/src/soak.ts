import { backendEntries } from '@rectify/all-backends';
import { runSoak, type SoakResult } from '@rectify/conformance';

/** One backend's long run, or why it could not run here. */
export type SoakRow = { readonly name: string; readonly result: SoakResult } | { readonly name: string; readonly skipped: string };

/** Options of {@link soakBackends}. */
export interface SoakRunOptions {
  /** Backends to run (`undefined`: every registered one). */
  readonly backends: readonly string[] | undefined;
  readonly steps: number;
  readonly size: number;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Whether a run kept its resource counts flat and gave everything back on dispose. */
export function isFlat(result: SoakResult): boolean {
  const { beforeOptimizer, afterFirstStep, atEnd, afterDispose } = result.resources;
  return same(afterFirstStep, atEnd) && same(beforeOptimizer, afterDispose);
}

/** Runs {@link runSoak} on every chosen backend that is available, one after another. */
export async function soakBackends(options: SoakRunOptions, log: (line: string) => void): Promise<SoakRow[]> {
  const rows: SoakRow[] = [];
  for (const entry of backendEntries) {
    if (options.backends !== undefined && !options.backends.includes(entry.name)) continue;
    const reason = await entry.unavailableReason();
    if (reason !== undefined) {
      rows.push({ name: entry.name, skipped: reason });
      continue;
    }
    log(`soak: ${entry.name}, ${options.steps} steps`);
    rows.push({ name: entry.name, result: await runSoak(entry.create, { steps: options.steps, size: options.size }) });
  }
  return rows;
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const counts = (c: Readonly<Record<string, number>> | undefined): string => (c === undefined ? '—' : JSON.stringify(c));

/** The rows as a markdown table: growth of RSS, heap and the backend's own resources. */
export function soakMarkdown(rows: readonly SoakRow[]): string {
  const lines = [
    '| backend | steps | steps/s | RSS growth (MiB) | heap growth (MiB) | resources after step 1 → end → after dispose | flat |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const row of rows) {
    if ('skipped' in row) {
      lines.push(`| \`${row.name}\` | — | — | — | — | skipped: ${row.skipped.replaceAll('|', '/')} | — |`);
      continue;
    }
    const r = row.result;
    const { afterFirstStep, atEnd, afterDispose } = r.resources;
    lines.push(
      `| \`${row.name}\` | ${r.steps} | ${r.stepsPerSecond.toFixed(0)} | ${mib(r.rssGrowthBytes)} | ${mib(r.heapGrowthBytes)} | ` +
        `${counts(afterFirstStep)} → ${counts(atEnd)} → ${counts(afterDispose)} | ${isFlat(r) ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}
