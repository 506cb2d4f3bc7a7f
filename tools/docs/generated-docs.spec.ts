import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { EVENT_CATALOG } from '@lib/contracts';
import { asyncApi } from './event-docs';
import { GENERATED } from './generated-docs';

describe('generated event documents', () => {
  it.each(Object.entries(GENERATED))(
    '%s is current (npm run docs:generate)',
    async (file, generate) => {
      expect(readFileSync(join(__dirname, '..', '..', file), 'utf8')).toBe(await generate());
    },
  );

  it('describe every event version with its payload schema', () => {
    const document = load(asyncApi()) as {
      asyncapi: string;
      channels: Record<string, { address: string }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.asyncapi).toBe('3.0.0');
    expect(
      Object.values(document.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(EVENT_CATALOG.map((d) => d.subject).sort());
    for (const definition of EVENT_CATALOG)
      expect(document.components.schemas[definition.payloadClass.name]).toBeDefined();
    expect(JSON.stringify(document)).not.toContain('schemas/Array');
  });
});
