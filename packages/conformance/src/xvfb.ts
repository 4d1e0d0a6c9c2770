import { spawn } from 'node:child_process';

/**
 * `@rectify/conformance/xvfb`, a vitest global setup (`globalSetup:
 * ['@rectify/conformance/xvfb']`): headless-gl draws through GLX, so it needs an X server.
 * Where none is set (`DISPLAY` unset: CI, a container, ssh) and Xvfb is installed, start
 * one for this run and point the test workers at it; they are spawned after this and
 * inherit `DISPLAY`. Where Xvfb is missing, nothing happens and the headlessgl suites say
 * why they cannot run.
 *
 * @packageDocumentation
 */
export default async function startXvfb(): Promise<(() => void) | undefined> {
  if (process.platform !== 'linux' || process.env.DISPLAY !== undefined) return undefined;
  // -displayfd: Xvfb takes the first free display number and writes it to fd 3 when ready.
  const server = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const display = await new Promise<string | undefined>((resolve) => {
    let written = '';
    const timer = setTimeout(() => resolve(undefined), 10_000);
    const done = (value: string | undefined): void => {
      clearTimeout(timer);
      resolve(value);
    };
    (server.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      written += chunk.toString();
      if (written.includes('\n')) done(written.trim());
    });
    server.once('error', () => done(undefined)); // ENOENT: Xvfb is not installed
    server.once('exit', () => done(undefined));
  });
  if (display === undefined) {
    server.kill();
    if (log !== '') console.warn(`[xvfb] Xvfb did not start: ${log.trim().split('\n').pop()}`);
    return undefined;
  }
  process.env.DISPLAY = `:${display}`;
  return () => {
    server.kill();
  };
}
