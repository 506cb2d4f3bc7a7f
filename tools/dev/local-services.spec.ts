import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedFolderAbove, embeddedPostgresObstacle } from './local-services';

describe('npm run dev as root, in a folder others cannot enter (a clone under /root)', () => {
  let closed: string;

  beforeEach(() => {
    // mkdtemp makes it 0700, like /root.
    closed = mkdtempSync(join(tmpdir(), 'saga-dev-closed-'));
  });

  afterEach(() => rmSync(closed, { recursive: true, force: true }));

  it('finds the folder the postgres user cannot pass through', () => {
    expect(closedFolderAbove(join(closed, 'clone', '.dev'))).toBe(closed);
    chmodSync(closed, 0o711);
    expect(closedFolderAbove(join(closed, 'clone', '.dev'))).toBeUndefined();
  });

  it('says exactly what to do instead of letting initdb fail with "Permission denied"', () => {
    const databaseDir = join(closed, 'clone', '.dev', 'postgres');
    const obstacle = embeddedPostgresObstacle(databaseDir, 0);
    expect(obstacle).toContain(`the user postgres, which cannot enter ${closed}`);
    expect(obstacle).toContain('apt-get install postgresql');
    expect(obstacle).toContain(`chmod o+x ${closed}`);
    expect(obstacle).toContain('DEV_DATA_DIR=');
  });

  it('lets the embedded Postgres start when it can reach its data, or does not run as root', () => {
    // The data folder itself may be closed: it is handed over to the postgres user.
    const databaseDir = join(closed, 'postgres');
    mkdirSync(databaseDir, { mode: 0o700 });
    chmodSync(closed, 0o755);
    expect(embeddedPostgresObstacle(databaseDir, 0)).toBeUndefined();
    chmodSync(closed, 0o700);
    expect(embeddedPostgresObstacle(databaseDir, 1000)).toBeUndefined();
  });
});
