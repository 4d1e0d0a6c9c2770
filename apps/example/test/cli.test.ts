import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR, demoCommand, parseDemoOptions } from '../src/cli/demo-options.js';
import { defaultScheduler } from '../src/training/default-schedule.js';

function parse(argv: string[]): ReturnType<typeof parseDemoOptions> {
  const command = demoCommand(['cpu', 'cpu64']).exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  return parseDemoOptions(command, argv);
}

function failure(argv: string[]): CommanderError {
  try {
    parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error;
    throw error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('the demo command line', () => {
  it('defaults to every backend, both tasks and a cosine schedule over the steps', () => {
    expect(parse([])).toEqual({
      backends: undefined,
      tasks: ['iris', 'spirals'],
      steps: 500,
      scheduler: defaultScheduler(500),
      seed: 42,
      out: DEFAULT_OUT_DIR,
      gradients: 'reference',
      adamLr: 0.1,
      adamSteps: 100,
    });
    expect(DEFAULT_OUT_DIR).toMatch(/apps[/\\]example[/\\]out$/);
    expect(parse(['--steps', '80']).scheduler).toEqual({ scheduler: 'CosineAnnealingLR', args: { baseLr: 0.03, tMax: 80, etaMin: 0.001 } });
  });

  it('reads every flag', () => {
    const spec = { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 10 } };
    expect(
      parse(['-b', 'cpu, cpu64', '--tasks', 'iris', '-s', '20', '--scheduler', JSON.stringify(spec), '--seed', '-3', '-o', '/tmp/x', '--gradients', 'own', '--adam-lr', '0.5', '--adam-steps', '7']),
    ).toEqual({ backends: ['cpu', 'cpu64'], tasks: ['iris'], steps: 20, scheduler: spec, seed: -3, out: '/tmp/x', gradients: 'own', adamLr: 0.5, adamSteps: 7 });
  });

  it('documents each flag in --help', () => {
    const help = demoCommand(['cpu', 'cpu64']).helpInformation();
    for (const flag of ['--backends', '--tasks', '--steps', '--scheduler', '--seed', '--out', '--gradients', '--adam-lr', '--adam-steps', '--help']) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('known: cpu, cpu64');
    expect(failure(['--help']).exitCode).toBe(0);
  });

  it('rejects bad values with a message naming the flag', () => {
    expect(failure(['--steps', '0']).message).toMatch(/--steps.*positive integer/);
    expect(failure(['--scheduler', '{nope']).message).toMatch(/--scheduler.*not JSON/);
    expect(failure(['--scheduler', '{"scheduler":"StepLr","args":{}}']).message).toMatch(/Unknown scheduler "StepLr"/);
    expect(failure(['--gradients', 'mine']).message).toMatch(/reference, own|"reference", "own"/);
    expect(failure(['--tasks', 'mnist']).message).toMatch(/unknown task mnist/);
    expect(failure(['--adam-lr', '-1']).message).toMatch(/--adam-lr.*positive number/);
  });
});
