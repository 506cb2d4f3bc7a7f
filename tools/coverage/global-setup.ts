import { rmSync } from 'node:fs';
import { CHILD_COVERAGE_DIR } from './coverage-files';

/**
 * Jest's global setup: with --coverage (npm test), every process the specs start (apps, the CLI,
 * dev, ...) writes Node's own coverage into CHILD_COVERAGE_DIR when it exits, which the global
 * teardown adds to what Jest measured in its own process. Set once Jest runs, so Jest itself writes
 * none: its own coverage comes from its provider, mapped to the TypeScript sources.
 */
export default function coverChildProcesses({
  collectCoverage,
}: {
  collectCoverage: boolean;
}): void {
  if (!collectCoverage) return;
  rmSync(CHILD_COVERAGE_DIR, { recursive: true, force: true });
  process.env.NODE_V8_COVERAGE = CHILD_COVERAGE_DIR;
}
