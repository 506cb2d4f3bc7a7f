import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED } from './event-docs';

/** `npm run docs:generate`: rewrites the generated documents; a spec fails when they are stale. */
for (const [file, generate] of Object.entries(GENERATED)) {
  writeFileSync(join(__dirname, '..', '..', file), generate());
  process.stdout.write(`wrote ${file}\n`);
}
