/**
 * The web page: trains the demo's Iris MLP with RAdam on the backend chosen in the menu
 * and streams the loss into a Vega-Lite chart as it falls.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { LIVE_LOSS_DATA, liveLossSpec } from '../src/charts/specs.js';
import { defaultScheduler } from '../src/training/default-schedule.js';
import { initialParams } from '../src/model/mlp.js';
import { ownGradients } from '../src/training/gradient-stream.js';
import { irisTask } from '../src/training/tasks.js';
import { trainRun } from '../src/training/train-run.js';
import { WEB_BACKENDS } from './backends.js';

const SEED = 42;
/** Chart points and repaints every this many steps: often enough to look live, cheap enough not to slow training. */
const PLOT_EVERY = 5;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`The page has no #${id}.`);
  return found as T;
}

const select = element<HTMLSelectElement>('backend');
const stepsInput = element<HTMLInputElement>('steps');
const trainButton = element<HTMLButtonElement>('train');
const status = element<HTMLParagraphElement>('status');
const lossOutput = element<HTMLOutputElement>('loss');
const runs = element<HTMLUListElement>('runs');

for (const backend of WEB_BACKENDS) select.add(new Option(backend.label, backend.id));

const view = new vega.View(vega.parse(compile(liveLossSpec('Iris: training loss, live')).spec), {
  renderer: 'svg',
  container: '#chart',
  hover: false,
});
await view.runAsync();

/** Lets the browser paint (the chart, the loss) between steps. */
const nextFrame = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function train(): Promise<void> {
  const choice = WEB_BACKENDS.find((b) => b.id === select.value) ?? WEB_BACKENDS[0]!;
  const steps = Math.max(10, Math.min(5000, Math.round(Number(stepsInput.value) || 300)));
  document.body.dataset.state = 'training';
  trainButton.disabled = true;
  status.textContent = `Starting ${choice.label}…`;
  try {
    const backend = await choice.create();
    const label = backend.name;
    const task = irisTask(SEED);
    status.textContent = `Training on ${label}…`;
    const result = await trainRun(backend, task, {
      steps,
      optimizer: { lr: defaultScheduler(steps) },
      initial: initialParams(task.model, SEED),
      gradients: ownGradients(task.model, task.train),
      onStep: async (done, loss) => {
        if (done % PLOT_EVERY !== 0 && done !== steps) return;
        lossOutput.textContent = loss.toFixed(4);
        // resize(): the axes and legend grow with the data, and the view must grow with them.
        await view.insert(LIVE_LOSS_DATA, [{ step: done - 1, loss, backend: label }]).resize().runAsync();
        await nextFrame();
      },
    });
    backend.dispose?.();
    await view.insert(LIVE_LOSS_DATA, [{ step: steps, loss: result.finalLoss, backend: label }]).resize().runAsync();
    lossOutput.textContent = result.finalLoss.toFixed(4);
    lossOutput.dataset.value = String(result.finalLoss);
    const summary = `${label}: final loss ${result.finalLoss.toFixed(4)}, test accuracy ${result.testAccuracy.toFixed(3)}, ${Math.round(result.stepsPerSecond)} steps/s`;
    status.textContent = `Done. ${summary}`;
    const item = document.createElement('li');
    item.textContent = summary;
    item.dataset.backend = label;
    item.dataset.finalLoss = String(result.finalLoss);
    runs.append(item);
    document.body.dataset.state = 'done';
  } catch (error) {
    status.textContent = `Failed: ${error instanceof Error ? error.message : String(error)}`;
    document.body.dataset.state = 'failed';
  } finally {
    trainButton.disabled = false;
  }
}

element<HTMLFormElement>('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  void train();
});
status.textContent = 'Ready: pick a backend and press Train.';
document.body.dataset.state = 'ready';
