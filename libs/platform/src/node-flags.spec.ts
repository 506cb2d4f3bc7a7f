import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_NODE_FLAGS } from './node-flags';

describe('APP_NODE_FLAGS', () => {
  it('are the flags of the image entry point, so production runs as the tests and benchmarks do', () => {
    const dockerfile = readFileSync(
      join(__dirname, '../../../infra/docker/app.Dockerfile'),
      'utf8',
    );
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint!)).toEqual(['node', ...APP_NODE_FLAGS, 'main.js']);
  });
});
