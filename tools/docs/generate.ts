import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENERATED } from './generated-docs';

/** `npm run docs:generate`: rewrites the generated documents; a spec fails when they are stale. */
async function main(): Promise<void> {
  for (const [file, generate] of Object.entries(GENERATED)) {
    const path = join(__dirname, '..', '..', file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, await generate());
    process.stdout.write(`wrote ${file}\n`);
  }
}

void main();
