import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const PACKAGE = join(__dirname, '..');

/**
 * `@saga-platform/client` builds on its own (its `npm run build`), into what package.json names,
 * and loads with nothing of the monorepo.
 */
describe('the client package', () => {
  const dist = join(PACKAGE, 'dist');
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('compiles to the entry points package.json names, and loads', async () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as {
      name: string;
      main: string;
      types: string;
      dependencies: Record<string, string>;
    };
    expect(manifest).toMatchObject({ name: '@saga-platform/client', main: 'dist/index.js' });
    // Only openapi-fetch at run time: nothing of the monorepo.
    expect(Object.keys(manifest.dependencies)).toEqual(['openapi-fetch']);
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', join(PACKAGE, 'tsconfig.build.json')],
      { stdio: 'pipe' },
    );
    const built = (file: string) => join(PACKAGE, file);
    expect(readFileSync(built(manifest.types), 'utf8')).toContain("from './saga-client'");
    expect(readFileSync(join(dist, 'saga-client.d.ts'), 'utf8')).toContain(
      'orderClient: (options: ClientOptions) => OrderApi',
    );
    const client = (await import(built(manifest.main))) as typeof import('./index');
    expect(typeof client.orderClient).toBe('function');
    expect(typeof client.waitForOrder).toBe('function');
    expect(client.FINAL_SAGA_STATES).toContain('COMPLETED');
  });
});
