import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_DATABASE_URL } from '../harness/database';
import { killOnExit } from '../harness/orphans';
import { eventually } from '../harness/wait';
import { countingStatements } from './saga-cost';

describe("bench:saga's statement count", () => {
  it('is read from the app process itself, so a run leaves no temporary folder', async () => {
    // A process preloaded as bench:saga preloads the apps: three statements, then it waits.
    const script = `
      const { Client } = require('pg');
      const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
      (async () => {
        await client.connect();
        for (let i = 0; i < 3; i++) await client.query('SELECT 1');
        process.stdout.write('ready\\n');
      })();
      setInterval(() => undefined, 1000);
    `;
    const child = killOnExit(
      spawn(process.execPath, ['-e', script], {
        cwd: join(__dirname, '..', '..'),
        env: { ...process.env, ...countingStatements(), TEST_DATABASE_URL },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await eventually(() => stdout.includes('ready'), { what: 'the statements to run' });
      child.kill('SIGUSR2');
      await eventually(() => stderr.includes('query-counter:'), { what: 'the count' });
      expect(stderr).toContain('query-counter: 3\n');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
