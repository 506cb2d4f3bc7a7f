/** Three projects: pure unit specs, integration specs against real NATS and Postgres, e2e journeys. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^@lib/(.*)$': '<rootDir>/libs/$1/src' },
  // The logs of the apps a spec runs show only when it fails (tests/harness/test-logs.ts).
  testEnvironment: '<rootDir>/tests/harness/test-environment.ts',
  setupFiles: ['<rootDir>/tests/harness/test-setup.ts'],
};
/** What the coverage of `npm test` is measured on: the apps' and libs' code, not their specs, migrations, entry points or generated code. */
const NOT_COVERED = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.d.ts',
  'apps/*/src/main.ts',
  'apps/*/src/tracing.ts',
  'apps/*/src/migrations/**',
  'libs/*/src/**/*.migration.ts',
  '{apps,libs}/*/src/**/generated/**',
];
module.exports = {
  // Integration and e2e tests start processes (apps, servers, CLI runs); on a busy 2-core machine
  // Jest's 5 s default is not enough.
  testTimeout: 60_000,
  // With --coverage (npm test): Jest measures its own process, the global setup has Node measure
  // every process the specs start, and the global teardown adds both up and checks the figure.
  collectCoverageFrom: ['{apps,libs}/*/src/**/*.ts', ...NOT_COVERED.map((glob) => `!${glob}`)],
  coverageProvider: 'v8',
  coverageDirectory: '<rootDir>/coverage/jest',
  coverageReporters: ['json'],
  globalSetup: '<rootDir>/tools/coverage/global-setup.ts',
  globalTeardown: '<rootDir>/tools/coverage/global-teardown.ts',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,infra,tools,tests}/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,infra,tools,tests}/**/*.int-spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.e2e-spec.ts'] },
  ],
};
