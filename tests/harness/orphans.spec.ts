import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { killOnExit } from './orphans';

describe('killOnExit', () => {
  it('listens for this process exiting once, however many children come and go', async () => {
    const before = process.listenerCount('exit');
    // More children than Node's default of ten listeners, each gone before the next starts.
    for (let i = 0; i < 12; i++) {
      const child = killOnExit(spawn(process.execPath, ['-e', '']));
      await once(child, 'exit');
    }
    expect(process.listenerCount('exit') - before).toBeLessThanOrEqual(1);
  });

  it('kills a child still running when this process exits', async () => {
    // A parent that leaves a sleeping child behind and exits: the child must not outlive it.
    const parent = spawn(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        '-e',
        `const { spawn } = require('node:child_process');
         const { killOnExit } = require('./tests/harness/orphans');
         const child = killOnExit(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']));
         process.stdout.write(String(child.pid));
         setTimeout(() => process.exit(0), 200);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await once(parent, 'exit');
    const pid = Number(output);
    expect(pid).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(pid)).toBe(false);
  });
});

/** Whether `pid` still runs: a killed orphan nobody reaps stays behind as a zombie (state Z). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
