/**
 * The conformance page: `?backend=NAME` replays every golden RAdam case on that backend,
 * `?schedulers` the golden scheduler cases. The report goes to `window.rectifyReport`
 * (read by the Node test) and to a table; `body[data-state]` turns `done`, or `failed`
 * when the page itself broke (a report then says why).
 */
import radamJson from '@rectify/conformance/goldens/radam.json' with { type: 'json' };
import schedulersJson from '@rectify/conformance/goldens/schedulers.json' with { type: 'json' };
import { isRadamCase, isSchedulerCase, parseGoldenFile } from '@rectify/conformance/portable';
import { PAGE_BACKENDS } from './backends.js';
import { runBackend, runSchedulers, type BackendReport, type CheckResult } from './conformance.js';

/** What the page publishes on `window.rectifyReport`. */
export interface PageReport {
  readonly userAgent: string;
  readonly schedulers?: readonly CheckResult[];
  readonly backend?: BackendReport;
  /** Set when the page could not run at all (unknown backend, a crash outside any case). */
  readonly error?: string;
}

declare global {
  interface Window {
    rectifyReport?: PageReport;
  }
}

const status = document.querySelector('#status')!;
const table = document.querySelector<HTMLTableElement>('#results')!;

function show(group: string, results: readonly CheckResult[]): void {
  for (const result of results) {
    const row = table.insertRow();
    row.dataset.passed = String(result.passed);
    for (const text of [group, result.name, result.passed ? 'pass' : 'FAIL', `${result.ms} ms`, [...result.problems, result.detail ?? ''].join('\n')]) {
      row.insertCell().textContent = text;
    }
  }
}

async function run(query: URLSearchParams): Promise<PageReport> {
  const userAgent = navigator.userAgent;
  const name = query.get('backend');
  const radam = parseGoldenFile(radamJson, 'radam.json').cases.filter(isRadamCase);
  const schedulers = query.has('schedulers')
    ? await runSchedulers(parseGoldenFile(schedulersJson, 'schedulers.json').cases.filter(isSchedulerCase))
    : undefined;
  if (name === null) return { userAgent, ...(schedulers && { schedulers }) };
  const entry = PAGE_BACKENDS.find((e) => e.name === name);
  if (entry === undefined) {
    return { userAgent, error: `unknown backend "${name}"; known: ${PAGE_BACKENDS.map((e) => e.name).join(', ')}` };
  }
  // The case that carries a scheduler exercises the most state in a round trip.
  const roundTripCase = radam.find((c) => typeof c.options.lr === 'object') ?? radam[0]!;
  return { userAgent, ...(schedulers && { schedulers }), backend: await runBackend(entry, radam, roundTripCase) };
}

const query = new URLSearchParams(location.search);
let report: PageReport;
try {
  report = await run(query);
} catch (error) {
  report = { userAgent: navigator.userAgent, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
window.rectifyReport = report;
if (report.schedulers) show('schedulers', report.schedulers);
if (report.backend) {
  show(report.backend.entry, report.backend.goldens);
  show(report.backend.entry, report.backend.checks);
}
const all = [...(report.schedulers ?? []), ...(report.backend?.goldens ?? []), ...(report.backend?.checks ?? [])];
status.textContent =
  report.error ??
  report.backend?.unavailable ??
  (query.has('backend') || query.has('schedulers')
    ? `${all.filter((r) => r.passed).length} of ${all.length} passed`
    : `backends: ${PAGE_BACKENDS.map((e) => e.name).join(', ')}`);
document.body.dataset.state = report.error === undefined ? 'done' : 'failed';
