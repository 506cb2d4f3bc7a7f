import { TestEnvironment } from 'jest-environment-node';
import { TEST_LOGS } from './test-logs';

/** The events of jest-circus this environment reads. */
interface TestEvent {
  name: string;
  test?: { name: string; errors: unknown[] };
  hook?: { type: string };
}

/**
 * Node's environment, printing the logs of the apps a spec runs in its own process
 * (tests/harness/test-logs.ts) after a test or hook that failed, and dropping them otherwise.
 */
export default class TestLogsEnvironment extends TestEnvironment {
  handleTestEvent(event: TestEvent): void {
    if (event.name === 'test_done' && event.test) {
      this.flush(event.test.errors.length > 0 ? `test "${event.test.name}"` : undefined);
    } else if (event.name === 'hook_failure') {
      this.flush(`${event.hook?.type ?? 'a'} hook`);
    }
  }

  /** Prints what was logged since the last test ended when `failed` names what failed; empties it. */
  private flush(failed: string | undefined): void {
    const lines = (this.global[TEST_LOGS] as string[] | undefined) ?? [];
    this.global[TEST_LOGS] = [];
    if (failed && lines.length > 0)
      process.stderr.write(
        `\n--- what the apps logged until the ${failed} failed:\n${lines.join('')}---\n`,
      );
  }
}
