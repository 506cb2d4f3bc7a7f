import TestLogsEnvironment from './test-environment';
import { TEST_LOGS } from './test-logs';

describe('the logs of the apps a spec runs in its own process', () => {
  /** The environment's event handling on a global object of its own (no vm context needed). */
  const environment = () => {
    const env = Object.create(TestLogsEnvironment.prototype) as TestLogsEnvironment;
    env.global = {} as TestLogsEnvironment['global'];
    return env;
  };
  const logged = (env: TestLogsEnvironment, line: string) =>
    ((env.global[TEST_LOGS] as string[] | undefined) ?? (env.global[TEST_LOGS] = [])).push(line);
  let printed: string[];

  beforeEach(() => {
    printed = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('are dropped when the test passes', () => {
    const env = environment();
    logged(env, '{"level":"error","msg":"an expected refusal"}\n');
    env.handleTestEvent({ name: 'test_done', test: { name: 'refuses', errors: [] } });
    expect(printed).toEqual([]);
    expect(env.global[TEST_LOGS]).toEqual([]);
  });

  it('are printed when the test fails, only the ones since the previous test', () => {
    const env = environment();
    logged(env, '{"msg":"of the test before"}\n');
    env.handleTestEvent({ name: 'test_done', test: { name: 'passes', errors: [] } });
    logged(env, '{"msg":"why it failed"}\n');
    env.handleTestEvent({ name: 'test_done', test: { name: 'fails', errors: [new Error('no')] } });
    expect(printed.join('')).toContain('until the test "fails" failed:\n{"msg":"why it failed"}\n');
    expect(printed.join('')).not.toContain('of the test before');
  });

  it('are printed when a hook fails (an app that does not boot)', () => {
    const env = environment();
    logged(env, '{"msg":"migration failed"}\n');
    env.handleTestEvent({ name: 'hook_failure', hook: { type: 'beforeAll' } });
    expect(printed.join('')).toContain(
      'until the beforeAll hook failed:\n{"msg":"migration failed"}',
    );
  });
});
