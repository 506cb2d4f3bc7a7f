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
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
};
module.exports = {
  // Integration and e2e tests start processes (apps, servers, CLI runs); on a busy 2-core machine
  // Jest's 5 s default is not enough.
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,infra,tools}/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,infra,tools}/**/*.int-spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.e2e-spec.ts'] },
  ],
};
