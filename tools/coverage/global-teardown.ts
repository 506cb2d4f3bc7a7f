import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Report } from 'c8';
import {
  CoverageMap,
  CoverageMapData,
  createCoverageMap,
  FileCoverage,
} from 'istanbul-lib-coverage';
import { createContext } from 'istanbul-lib-report';
import { create } from 'istanbul-reports';
import { CHILD_COVERAGE_DIR, COVERAGE_DIR, JEST_COVERAGE_FILE } from './coverage-files';

/** The least line coverage of apps/*\/src and libs/*\/src that `npm test` (and so CI) accepts. */
export const MIN_LINES = 80;
const ROOT = join(__dirname, '..', '..');
const PROCESSES_REPORT_DIR = join(COVERAGE_DIR, 'processes-report');

interface RunOptions {
  collectCoverage: boolean;
  nonFlagArgs?: string[];
  testNamePattern?: string;
  selectProjects?: string[];
}

/**
 * Jest's global teardown, after its coverage reporter wrote what it measured in its own process
 * (unit and integration specs): adds what Node measured in every process the specs started (the
 * apps of the e2e suites, the CLI, dev, ...), prints the summary and the line figure, writes the
 * per-file table to coverage/coverage.txt and an HTML report to coverage/index.html. Under
 * MIN_LINES the run fails (Jest keeps a non-zero exit code it did not set); a run of some specs
 * only (`npm test -- <path>`) prints its figure and is not held to it.
 */
export default async function reportCoverage(run: RunOptions): Promise<void> {
  if (!run.collectCoverage) return;
  const inJest = createCoverageMap(
    JSON.parse(readFileSync(JEST_COVERAGE_FILE, 'utf8')) as CoverageMapData,
  );
  const inProcesses = await childProcessCoverage(inJest.files());
  const coverage = createCoverageMap({});
  for (const file of inJest.files())
    coverage.addFileCoverage(combined(inJest.fileCoverageFor(file), inProcesses));

  const context = createContext({ dir: COVERAGE_DIR, coverageMap: coverage });
  create('text', { file: 'coverage.txt', maxCols: 0 }).execute(context);
  create('html').execute(context);
  create('text-summary').execute(context);
  const lines = coverage.getCoverageSummary().lines.pct;
  const partial = Boolean(
    run.nonFlagArgs?.length || run.testNamePattern || run.selectProjects?.length,
  );
  const verdict = partial ? 'some specs only: not checked' : lines >= MIN_LINES ? 'ok' : 'FAILED';
  process.stdout.write(
    `\ncoverage: ${lines} % of the lines of apps/*/src and libs/*/src (at least ${MIN_LINES} %: ${verdict}; per file: coverage/coverage.txt)\n`,
  );
  if (verdict === 'FAILED') process.exitCode = 1;
}

/** Node's coverage of the specs' processes, for `files` only, mapped to the TypeScript sources. */
async function childProcessCoverage(files: string[]): Promise<CoverageMap> {
  if (!existsSync(CHILD_COVERAGE_DIR)) return createCoverageMap({});
  rmSync(PROCESSES_REPORT_DIR, { recursive: true, force: true });
  // mergeAsync: one process's coverage in memory at a time; resolve: the paths are absolute.
  const options: ConstructorParameters<typeof Report>[0] & { mergeAsync: boolean } = {
    include: files.map((file) => relative(ROOT, file)),
    reporter: ['json'],
    reportsDirectory: PROCESSES_REPORT_DIR,
    tempDirectory: CHILD_COVERAGE_DIR,
    resolve: '',
    all: false,
    mergeAsync: true,
  };
  await new Report(options).run();
  return createCoverageMap(
    JSON.parse(
      readFileSync(join(PROCESSES_REPORT_DIR, 'coverage-final.json'), 'utf8'),
    ) as CoverageMapData,
  );
}

/**
 * A file's coverage over both. A file Jest never loaded is listed by it with every line of its
 * source at zero, comments and type declarations too; where other processes ran it, their measure
 * (of its code only) stands alone, or those lines would count as missed.
 */
function combined(jest: FileCoverage, processes: CoverageMap): FileCoverage {
  if (!processes.files().includes(jest.path)) return jest;
  const elsewhere = processes.fileCoverageFor(jest.path);
  if (!Object.values(jest.s).some((hits) => hits > 0)) return elsewhere;
  jest.merge(elsewhere);
  return jest;
}
