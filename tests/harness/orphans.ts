import { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

/**
 * Kills `child` when this process exits, however it exits: an app or nats-server left behind by a
 * crashed suite or benchmark would keep consuming from the next run's schemas and steal its events.
 */
export function killOnExit(child: ChildProcess): ChildProcess {
  if (children.size === 0) {
    process.once('exit', () => {
      for (const running of children) running.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
