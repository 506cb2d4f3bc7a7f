import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../../../tests/harness/database';
import { JsonRead, readTogether } from './raw-sql';

describe('readTogether', () => {
  let client: Client;
  const runner = {
    // queryPrepared hands pg a { name, text } config in the place of the text.
    query: async (sql: unknown, values?: unknown[]): Promise<unknown[]> =>
      (await client.query(sql as string, values)).rows as unknown[],
  };

  beforeAll(async () => {
    client = new Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
  });

  afterAll(() => client?.end());

  const numbersUpTo = (n: number): JsonRead<{ n: number; at: Date }[]> => ({
    select: (params) =>
      `SELECT n, timestamptz '2026-01-02T03:04:05.678Z' + n * interval '1 day' AS at
        FROM generate_series(1, ${params.add(n)}::int) AS n`,
    fromJson: (rows) =>
      (rows as { n: number; at: string }[]).map(({ n, at }) => ({ n, at: new Date(at) })),
  });
  const words = (list: string[]): JsonRead<string[]> => ({
    select: (params) => `SELECT w FROM unnest(${params.array(list, (w) => w, 'text')}) AS w`,
    fromJson: (rows) => (rows as { w: string }[]).map(({ w }) => w),
  });

  it('answers each read its own rows, parameters numbered across the reads, in one statement', async () => {
    const [numbers, none, texts] = await readTogether(runner, [
      numbersUpTo(2),
      numbersUpTo(0),
      words(['a', "it's", '"quoted"']),
    ]);
    expect(numbers).toEqual([
      { n: 1, at: new Date('2026-01-03T03:04:05.678Z') },
      { n: 2, at: new Date('2026-01-04T03:04:05.678Z') },
    ]);
    // A read with no rows answers an empty list, not null.
    expect(none).toEqual([]);
    expect(texts).toEqual(['a', "it's", '"quoted"']);
  });
});
