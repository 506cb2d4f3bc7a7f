import { join } from 'node:path';

/** Where `npm test` keeps coverage (git-ignored). */
export const COVERAGE_DIR = join(__dirname, '..', '..', 'coverage');
/** What Jest measured in its own process (coverageDirectory in jest.config.js). */
export const JEST_COVERAGE_FILE = join(COVERAGE_DIR, 'jest', 'coverage-final.json');
/** Node's raw coverage of every process the specs started. */
export const CHILD_COVERAGE_DIR = join(COVERAGE_DIR, 'processes');
