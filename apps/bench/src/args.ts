import { parseArgs } from 'node:util';
import { MODEL_IDS } from './models.js';

/** One benchmark shape: `tensors` tensors of `size` elements each. */
export interface Shape {
  /** Elements per tensor. */
  readonly size: number;
  /** Tensors in the parameter group (stepped by one `optimizer.step`). */
  readonly tensors: number;
}

/** What a bench run measures and where it reports. */
export interface BenchArgs {
  /** Backends to measure (`undefined`: every available one). */
  readonly backends: readonly string[] | undefined;
  /** Shapes to measure. */
  readonly shapes: readonly Shape[];
  /** Print one JSON object (exactly one backend and one shape). */
  readonly json: boolean;
  /** Rewrite the results section of apps/bench/README.md. */
  readonly updateReadme: boolean;
  /** Measuring time per task, milliseconds (tinybench `time`). */
  readonly timeMs: number;
  /** Core's finiteness check on every step (`nonFinite: 'error'`) instead of `'propagate'`. */
  readonly checkFinite: boolean;
  /** Skip the tfjs `tf.train.adam` baseline even when tfjs backends are measured. */
  readonly skipTfjsAdam: boolean;
  /** Also run the 10 000-step long run of every backend (always with `--update-readme`). */
  readonly soak: boolean;
  /** Measure checkpoints instead (`pnpm bench --checkpoint`): see checkpoint.ts. */
  readonly checkpoint: boolean;
  /** Parameters of the checkpoint model. */
  readonly checkpointParams: number;
  /** SIGKILLs of the checkpoint kill loop. */
  readonly kills: number;
  /** Where the checkpoint files go (default: the OS temporary directory). */
  readonly checkpointDir: string | undefined;
  /** Run the model workloads instead of the single-tensor matrix (`--models`; also with `--update-readme`). */
  readonly models: boolean;
  /** Model ids of `--models` (`--model`; default: every one). */
  readonly modelIds: readonly string[];
  /** Print the usage and exit. */
  readonly help: boolean;
}

/** Defaults of the checkpoint bench: a GPT-style model of 250M parameters, 200 kills. */
export const CHECKPOINT_DEFAULTS = { params: 250e6, kills: 200 } as const;

/** The default matrix: one tensor of 1e3 … 1e7 elements, and 1000 tensors of 1000 elements. */
export const DEFAULT_SHAPES: readonly Shape[] = [
  { size: 1e3, tensors: 1 },
  { size: 1e4, tensors: 1 },
  { size: 1e5, tensors: 1 },
  { size: 1e6, tensors: 1 },
  { size: 1e7, tensors: 1 },
  { size: 1000, tensors: 1000 },
];

/** Usage text for `--help`. */
export const USAGE = `Usage: pnpm bench [options]

  --backend <names>    comma-separated backends (default: every available one);
                       cpu-wasm-<n>t runs cpu-wasm on n threads
  --size <n>           elements per tensor (1e6 and 1_000_000 work); several: --size 1e3,1e6
  --tensors <k>        tensors per step, each of --size elements (default 1)
  --json               print { backend, size, tensors, elementsPerSecond, rooflineFraction }
                       for exactly one backend and one size
  --update-readme      run the default matrix and the models and rewrite the results in apps/bench/README.md
  --time <ms>          measuring time per task (default 1000)
  --check-finite       step with nonFinite: 'error' (a finiteness pass per step) instead of 'propagate'
  --skip-tfjs-adam     do not measure the tfjs tf.train.adam baseline
  --soak               also run every backend for 10 000 steps and report memory growth
                       (always on with --update-readme; \`pnpm soak\` runs it alone)
  --checkpoint         measure safetensors checkpoints instead: save and load of a transformer-sized
                       optimizer with its parameters against the disk's sequential write speed,
                       peak memory, file size, bit-exact resume, and a SIGKILL loop; on cpu,
                       cpu-wasm, tfjs-cpu and onnx (or the --backend ones)
  --checkpoint-params <n>  parameters of that model (default 250e6)
  --kills <n>          SIGKILLs of the kill loop (default 200; 0 skips it)
  --checkpoint-dir <dir>   where the files go (default: the OS temporary directory)
  --models             the model workloads instead: one full step over the parameter shapes of GPT-2 small,
                       ResNet-50, an MLP and 1000 tiny tensors (models/*.json) per row: cpu-wasm (backend
                       tensors, user Float32Arrays, nonFinite 'error', 'error' + gradClipNorm), cpu, onnx, onnx-web,
                       tfjs-wasm, tfjs-cpu (or the --backend ones), torch RAdam where a Python has torch,
                       the native C step where cc exists; ms/step, roofline, peak memory per parameter
  --model <ids>        models of --models and --update-readme (default: ${MODEL_IDS.join(',')})
  --help               this text
`;

function positiveInteger(flag: string, text: string): number {
  const value = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag}: "${text}" is not a positive integer.`);
  return value;
}

function nonNegativeInteger(flag: string, text: string): number {
  return text.trim() === '0' ? 0 : positiveInteger(flag, text);
}

/** Parses the command line (`process.argv.slice(2)`); throws on a bad flag or value. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      backend: { type: 'string' },
      size: { type: 'string' },
      tensors: { type: 'string' },
      json: { type: 'boolean', default: false },
      'update-readme': { type: 'boolean', default: false },
      time: { type: 'string' },
      'check-finite': { type: 'boolean', default: false },
      'skip-tfjs-adam': { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      checkpoint: { type: 'boolean', default: false },
      'checkpoint-params': { type: 'string' },
      kills: { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      models: { type: 'boolean', default: false },
      model: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const backends = values.backend?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const tensors = values.tensors === undefined ? 1 : positiveInteger('--tensors', values.tensors);
  const sizes = values.size?.split(',').map((text) => positiveInteger('--size', text.trim()));
  const shapes = sizes === undefined ? (values.tensors === undefined ? DEFAULT_SHAPES : [{ size: 1000, tensors }]) : sizes.map((size) => ({ size, tensors }));
  const json = values.json ?? false;
  if (json && (backends?.length !== 1 || shapes.length !== 1)) {
    throw new Error('--json measures exactly one backend and one size: pass --backend <name> --size <n>.');
  }
  const updateReadme = values['update-readme'] ?? false;
  const checkpoint = values.checkpoint ?? false;
  const checkpointOnly = [values['checkpoint-params'], values.kills, values['checkpoint-dir']].some((v) => v !== undefined);
  if (checkpointOnly && !checkpoint) throw new Error('--checkpoint-params, --kills and --checkpoint-dir go with --checkpoint.');
  if (checkpoint && (json || updateReadme)) throw new Error('--checkpoint runs on its own: it takes no --json or --update-readme.');
  const models = values.models ?? false;
  const modelIds = values.model?.split(',').map((id) => id.trim()).filter((id) => id !== '') ?? [...MODEL_IDS];
  const unknown = modelIds.find((id) => !(MODEL_IDS as readonly string[]).includes(id));
  if (unknown !== undefined) throw new Error(`--model: unknown model "${unknown}". Known: ${MODEL_IDS.join(', ')}.`);
  if (values.model !== undefined && !models && !updateReadme) throw new Error('--model goes with --models or --update-readme.');
  if (models && (json || checkpoint || updateReadme || sizes !== undefined || values.tensors !== undefined)) {
    throw new Error('--models runs on its own: it takes no --json, --checkpoint, --update-readme, --size or --tensors (--update-readme runs the models too).');
  }
  if (updateReadme && (json || sizes !== undefined || values.tensors !== undefined)) {
    throw new Error('--update-readme runs the default matrix: it takes no --json, --size or --tensors.');
  }
  return {
    backends,
    shapes,
    json,
    updateReadme,
    timeMs: values.time === undefined ? 1000 : positiveInteger('--time', values.time),
    checkFinite: values['check-finite'] ?? false,
    skipTfjsAdam: values['skip-tfjs-adam'] ?? false,
    soak: (values.soak ?? false) || updateReadme,
    checkpoint,
    checkpointParams: values['checkpoint-params'] === undefined ? CHECKPOINT_DEFAULTS.params : positiveInteger('--checkpoint-params', values['checkpoint-params']),
    kills: values.kills === undefined ? CHECKPOINT_DEFAULTS.kills : nonNegativeInteger('--kills', values.kills),
    checkpointDir: values['checkpoint-dir'],
    models,
    modelIds,
    help: values.help ?? false,
  };
}
