import cliProgress from 'cli-progress';

/** Receives a run's progress: steps done and the latest loss. */
export type StepCallback = (done: number, loss: number) => void;

/** Progress display for a sequence of training runs. */
export interface ProgressDisplay {
  /** Starts a run called `label` of `total` steps; returns its step callback. */
  track(label: string, total: number): StepCallback;
  /** Prints a line above the bars (or plainly). */
  log(line: string): void;
  /** Ends the display (the bars stay on screen, complete). */
  stop(): void;
}

/** How often, in share of a run, the plain display prints a line. */
const PLAIN_EVERY = 0.25;

/**
 * A bar per run on `stream` when it is a terminal (cli-progress's multibar, redrawn in
 * place), else plain lines at every quarter of a run, which read well in a log file.
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  if (stream.isTTY !== true) return plainProgress(stream);
  // Kept under 80 columns: cli-progress cuts lines at the terminal's width.
  const labelWidth = 26;
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: '{label} {bar} {value}/{total} | loss {loss}',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    track(label, total) {
      const bar = multibar.create(total, 0, { label: label.padEnd(labelWidth), loss: '—' });
      return (done, loss) => {
        // Redrawing on every step of a fast backend would cost more than the step itself.
        if (done === total || done % 5 === 0) bar.update(done, { loss: loss.toFixed(4) });
      };
    },
    log: (line) => {
      multibar.log(`${line}\n`);
      // Logged lines wait for the next redraw: force one, or a quick stop() would drop them.
      multibar.update();
    },
    stop: () => multibar.stop(),
  };
}

function plainProgress(stream: NodeJS.WriteStream): ProgressDisplay {
  return {
    track(label, total) {
      const every = Math.max(1, Math.round(total * PLAIN_EVERY));
      stream.write(`${label}: ${total} steps\n`);
      return (done, loss) => {
        if (done % every === 0 || done === total) stream.write(`${label}: ${done}/${total} steps, loss ${loss.toFixed(4)}\n`);
      };
    },
    log: (line) => stream.write(`${line}\n`),
    stop: () => undefined,
  };
}
