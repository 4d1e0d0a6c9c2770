/**
 * `@rectify/core/browser` in headless Chromium (Debian's): pages served from localhost load
 * core's and this package's built modules, checkpoint an optimizer in the Origin Private
 * File System and post what they find back to this test. The crash test SIGKILLs the
 * whole browser in the middle of saves and starts it again on the same profile.
 */
import { RAdam } from '@rectify/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`;
const ROOTS: Record<string, string> = {
  core: fileURLToPath(new URL('../node_modules/@rectify/core/dist/', import.meta.url)),
  cpu: fileURLToPath(new URL('../dist/', import.meta.url)),
};

/**
 * The training both sides run: `steps` steps of a fixed gradient formula. Serialised into
 * the page with `toString()`, so the page and this test train the same way.
 */
function train(opt: { step(grads: Record<string, Float32Array>): unknown }, params: Record<string, Float32Array>, steps: number, from: number): void {
  for (let s = from; s < from + steps; s++) {
    const grads: Record<string, Float32Array> = {};
    Object.keys(params).forEach((name, i) => {
      grads[name] = params[name]!.map((_, j) => Math.sin(1 + 7 * i + 3 * j + s));
    });
    opt.step(grads);
  }
}

/** The parameters of the round-trip model (names that collide under a naive scheme included). */
const SHAPES: Record<string, number> = { 'embed.weight': 50, 'embed.weight.exp_avg': 7, 'blocks.0.w': 300, __metadata__: 3 };

const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@rectify/core": "/core/index.js" } }</script>
<script type="module">
import { RAdam } from '/core/index.js';
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from '/core/browser/index.js';
import { cpuBackend } from '/cpu/cpu-backend.js';
const train = ${train.toString()};
const SHAPES = ${JSON.stringify(SHAPES)};
const post = (message) => fetch('/message', { method: 'POST', body: JSON.stringify(message) });
function model(shapes, fill) {
  const opt = new RAdam(cpuBackend(), { lr: 0.01 });
  const params = Object.fromEntries(Object.entries(shapes).map(([name, size], i) => [name, new Float32Array(size).map((_, j) => fill(i, j))]));
  opt.registerTrainableWeights(params);
  return { opt, params };
}
async function digest({ opt, params }) {
  const parts = [];
  for (const name of Object.keys(params)) {
    const state = opt.readState(name);
    parts.push(state.firstMoment, state.secondMoment, params[name]);
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) { bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at); at += p.byteLength; }
  return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
const codeOf = (promise) => promise.then(() => 'resolved', (error) => error.code ?? error.name);
const root = await navigator.storage.getDirectory();
const scenarios = {
  async roundTrip() {
    const source = model(SHAPES, (i, j) => 0.1 * (i + 1) - 0.01 * j);
    train(source.opt, source.params, 3, 0);
    await root.getDirectoryHandle('runs', { create: true });
    await saveCheckpoint('runs/opt.safetensors', source.opt, { epoch: 3 }, { includeParams: true });
    await saveCheckpoint('runs/opt.json', source.opt, { epoch: 'json' }, { includeParams: true });
    const fromSafetensors = model(SHAPES, () => 9);
    const fromJson = model(SHAPES, () => 9);
    const info = await readCheckpoint('runs/opt.safetensors');
    await root.getDirectoryHandle('taken.safetensors', { create: true });
    return {
      source: await digest(source),
      extra: await loadCheckpoint('runs/opt.safetensors', fromSafetensors.opt),
      loaded: await digest(fromSafetensors),
      jsonExtra: await loadCheckpoint('runs/opt.json', fromJson.opt),
      jsonLoaded: await digest(fromJson),
      container: info.container,
      keys: info.tensors.map((t) => t.key),
      missingFile: await loadCheckpoint('runs/none.safetensors', fromJson.opt),
      missingDirectory: await loadCheckpoint('nowhere/opt.safetensors', fromJson.opt),
      saveIntoMissingDirectory: await codeOf(saveCheckpoint('nowhere/opt.safetensors', source.opt)),
      saveOverDirectory: await codeOf(saveCheckpoint('taken.safetensors', source.opt)),
    };
  },
  async order() {
    const large = model({ w: 4_000_000 }, () => 1);
    const small = model(SHAPES, (i, j) => i - j);
    const saves = [
      saveCheckpoint('order.safetensors', large.opt, { which: 'large' }, { includeParams: true }),
      saveCheckpoint('order.safetensors', small.opt, { which: 'small' }, { includeParams: true }),
    ];
    await Promise.all(saves);
    const target = model(SHAPES, () => 9);
    return { extra: await loadCheckpoint('order.safetensors', target.opt), equal: (await digest(target)) === (await digest(small)) };
  },
  async writer() {
    const m = model({ w: 3_000_000 }, () => 0.5);
    const saved = await loadCheckpoint('crash.safetensors', m.opt);
    for (let version = (saved?.version ?? 0) + 1; ; version++) {
      train(m.opt, m.params, 1, version);
      await post({ start: version, digest: await digest(m) }); // received before the save begins
      await saveCheckpoint('crash.safetensors', m.opt, { version }, { includeParams: true });
      await post({ done: version });
    }
  },
  async reader() {
    const m = model({ w: 3_000_000 }, () => 0);
    const saved = await loadCheckpoint('crash.safetensors', m.opt);
    return { version: saved?.version ?? 0, digest: await digest(m) };
  },
};
const name = new URLSearchParams(location.search).get('scenario');
try {
  await post({ result: await scenarios[name]() });
} catch (error) {
  await post({ error: String(error?.stack ?? error), code: error?.code });
}
</script>`;

/** One headless Chromium on a profile (where its OPFS lives), and what its page posts. */
class Browser {
  readonly messages: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  #process: ChildProcess | undefined;

  receive(message: Record<string, unknown>): void {
    this.messages.push(message);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  open(url: string, profile: string): void {
    this.messages.length = 0;
    this.#process = spawn(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, url],
      { stdio: 'ignore', detached: true }, // its own process group: a kill takes every Chromium process
    );
  }

  /** The first message that `match` accepts, waiting for it. */
  async next(match: (message: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => match(m) || 'error' in m);
      if (found !== undefined) {
        if ('error' in found) throw new Error(`page failed: ${String(found.error)}`);
        return found;
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the page');
      await new Promise<void>((wake) => {
        this.#waiters.push(wake);
        setTimeout(wake, 200);
      });
    }
  }

  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return; // gone already
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
  }
}

describe.skipIf(missing !== undefined)(`@rectify/core/browser in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let base: string;
  const browser = new Browser();
  const profiles: string[] = [];
  const profile = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'rectify-chromium-'));
    profiles.push(dir);
    return dir;
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (request.method === 'POST') {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          browser.receive(JSON.parse(body) as Record<string, unknown>);
          response.end('ok');
        });
        return;
      }
      const [, root, ...rest] = url.pathname.split('/');
      if (root === '' || root === undefined) {
        response.setHeader('content-type', 'text/html');
        response.end(PAGE);
        return;
      }
      const dir = ROOTS[root];
      const file = dir === undefined ? undefined : normalize(join(dir, ...rest));
      if (file === undefined || !file.startsWith(dir!) || !existsSync(file)) {
        response.statusCode = 404;
        response.end();
        return;
      }
      response.setHeader('content-type', extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream');
      response.end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
  });

  afterAll(async () => {
    await browser.kill();
    server?.closeAllConnections(); // a killed page's keep-alive connections
    await new Promise((resolve) => server?.close(resolve));
    for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
  });

  /** Node's own digest of the state the page builds (same training, same order). */
  function expectedDigest(): string {
    const opt = new RAdam(cpuBackend(), { lr: 0.01 });
    const params = Object.fromEntries(Object.entries(SHAPES).map(([name, size], i) => [name, new Float32Array(size).map((_, j) => 0.1 * (i + 1) - 0.01 * j)]));
    opt.registerTrainableWeights(params);
    train(opt, params, 3, 0);
    const hash = createHash('sha256');
    for (const name of Object.keys(params)) {
      const state = opt.readState(name);
      for (const array of [state.firstMoment, state.secondMoment, params[name]!]) hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
    return hash.digest('hex');
  }

  it('saves and loads both containers in OPFS bit-exactly; missing files are null; bad paths are CHECKPOINT_IO', { timeout: 120_000 }, async () => {
    browser.open(`${base}?scenario=roundTrip`, profile());
    const { result } = (await browser.next((m) => 'result' in m)) as { result: Record<string, unknown> };
    await browser.kill();
    expect(result).toEqual({
      source: expectedDigest(),
      extra: { epoch: 3 },
      loaded: expectedDigest(),
      jsonExtra: { epoch: 'json' },
      jsonLoaded: expectedDigest(),
      container: 'safetensors',
      keys: Object.keys(SHAPES).flatMap((n) => [`${n}.exp_avg`, `${n}.exp_avg_sq`, `${n}.param`]),
      missingFile: null,
      missingDirectory: null,
      saveIntoMissingDirectory: 'CHECKPOINT_IO',
      saveOverDirectory: 'CHECKPOINT_IO',
    });
  });

  it('ends with the save called last when an earlier, bigger one finishes later', { timeout: 120_000 }, async () => {
    browser.open(`${base}?scenario=order`, profile());
    const { result } = (await browser.next((m) => 'result' in m)) as { result: unknown };
    await browser.kill();
    expect(result).toEqual({ extra: { which: 'small' }, equal: true });
  });

  it('old or new, never torn: the browser SIGKILLed in the middle of saves leaves a version that loads whole', { timeout: 300_000 }, async () => {
    const dir = profile();
    const digests = new Map<number, string>();
    let last = 0;
    let killedInsideSave = 0;
    for (let kill = 0; kill < 4; kill++) {
      browser.open(`${base}?scenario=writer`, dir);
      await browser.next((m) => typeof m.start === 'number' && m.start > last + 1); // past one whole save
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
      await browser.kill();
      for (const m of browser.messages) if (typeof m.start === 'number') digests.set(m.start, m.digest as string);
      const started = Math.max(...browser.messages.filter((m) => typeof m.start === 'number').map((m) => m.start as number));
      const done = Math.max(...browser.messages.filter((m) => typeof m.done === 'number').map((m) => m.done as number));
      if (started > done) killedInsideSave++;
      browser.open(`${base}?scenario=reader`, dir);
      const { result } = (await browser.next((m) => 'result' in m)) as { result: { version: number; digest: string } };
      await browser.kill();
      expect([done, started]).toContain(result.version); // the last save done, or the one in flight if it committed
      expect(result.digest).toBe(digests.get(result.version));
      last = result.version;
    }
    expect(killedInsideSave).toBeGreaterThan(0);
  });
});
