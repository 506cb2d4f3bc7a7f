import { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let killingOnExit = false;

/**
 * Kills `child` when this process exits, however it exits: an app or nats-server left behind by a
 * crashed suite or benchmark would keep consuming from the next run's schemas and steal its events.
 */
export function killOnExit(child: ChildProcess): ChildProcess {
  // Once per process: a listener per child would pile up past Node's limit of ten in a run that
  // starts children one after another.
  if (!killingOnExit) {
    killingOnExit = true;
    process.once('exit', () => {
      for (const running of children) running.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
