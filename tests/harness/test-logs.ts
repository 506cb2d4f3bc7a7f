import type { DestinationStream } from 'pino';

/*
 * Where the logs of the apps a spec runs in its own process go: to the running test's record, not
 * to the test output. The test environment (tests/harness/test-environment.ts) prints them when
 * the test fails and drops them when it passes, so a green run shows no logs, and a failure shows
 * what the apps said meanwhile. (Apps run as processes keep theirs in `AppProcess.stdout()`.)
 */

/** The running test's log lines, on the global object the test environment shares with the spec. */
export const TEST_LOGS = '__sagaTestLogs';

type WithTestLogs = typeof globalThis & { [TEST_LOGS]?: string[] };

/** The destination of in-process apps' pino loggers. */
export function testLogDestination(): DestinationStream {
  return {
    write: (line: string) => {
      ((globalThis as WithTestLogs)[TEST_LOGS] ??= []).push(line);
    },
  };
}

/** The level of the apps in tests (TEST_LOG_LEVEL shows more of what they do on a failure). */
export const TEST_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'error';
