import { Batcher, BatchWindow } from './batcher';

interface Item {
  key: string;
  fails?: boolean;
}

/** A batcher whose run records each batch and fails a batch holding an item marked to fail. */
function recordingBatcher(window: BatchWindow = { windowMs: 0 }) {
  const batches: string[][] = [];
  const batcher = new Batcher<Item, string>(
    (items) => {
      batches.push(items.map((item) => item.key));
      if (items.some((item) => item.fails)) return Promise.reject(new Error('batch failed'));
      return Promise.resolve(
        items.map((item) => ({ status: 'fulfilled' as const, value: `done ${item.key}` })),
      );
    },
    (item) => item.key,
    window,
  );
  return { batcher, batches };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Batcher', () => {
  it('runs the items of one event-loop turn as one batch and answers each', async () => {
    const { batcher, batches } = recordingBatcher();
    const outcomes = await Promise.all(['a', 'b', 'c'].map((key) => batcher.apply({ key })));
    expect(outcomes).toEqual(['done a', 'done b', 'done c']);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('waits its batch window for later items to join the first', async () => {
    const { batcher, batches } = recordingBatcher({ windowMs: 50 });
    const first = batcher.apply({ key: 'a' });
    await sleep(10);
    expect(batches).toEqual([]);
    await Promise.all([first, batcher.apply({ key: 'b' })]);
    expect(batches).toEqual([['a', 'b']]);
  });

  it('ends its window once as many items wait as it is full at', async () => {
    const { batcher, batches } = recordingBatcher({ windowMs: 60_000, fullAt: 3 });
    const firstTwo = [batcher.apply({ key: 'a' }), batcher.apply({ key: 'b' })];
    await sleep(10);
    expect(batches).toEqual([]);
    await Promise.all([...firstTwo, batcher.apply({ key: 'c' })]);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('waiting only when busy, starts an item after a quiet spell at once', async () => {
    const { batcher, batches } = recordingBatcher({ windowMs: 60_000, onlyWhenBusy: true });
    const first = batcher.apply({ key: 'a' });
    await sleep(10);
    expect(batches).toEqual([['a']]);
    await first;
  });

  it('waiting only when busy, waits its window for an item close behind the one before', async () => {
    const { batcher, batches } = recordingBatcher({ windowMs: 500, onlyWhenBusy: true });
    await batcher.apply({ key: 'a' });
    const second = batcher.apply({ key: 'b' });
    await sleep(20);
    expect(batches).toEqual([['a']]);
    await Promise.all([second, batcher.apply({ key: 'c' })]);
    expect(batches).toEqual([['a'], ['b', 'c']]);
    // Quiet for longer than the window again: the next item starts at once.
    await sleep(550);
    const fourth = batcher.apply({ key: 'd' });
    await sleep(20);
    expect(batches).toEqual([['a'], ['b', 'c'], ['d']]);
    await fourth;
  });

  it('without a window, runs the first batch after one event-loop turn', async () => {
    const { batcher, batches } = recordingBatcher();
    const first = batcher.apply({ key: 'a' });
    await sleep(10);
    expect(batches).toEqual([['a']]);
    await Promise.all([first, batcher.apply({ key: 'b' })]);
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('puts a second item with the same key into the next batch', async () => {
    const { batcher, batches } = recordingBatcher();
    await Promise.all(['a', 'b', 'a'].map((key) => batcher.apply({ key })));
    expect(batches).toEqual([['a', 'b'], ['a']]);
  });

  it('runs the items of a failed batch alone, so only the bad one fails', async () => {
    const { batcher, batches } = recordingBatcher();
    const outcomes = await Promise.allSettled([
      batcher.apply({ key: 'a' }),
      batcher.apply({ key: 'b', fails: true }),
      batcher.apply({ key: 'c' }),
    ]);
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 'done a' },
      { status: 'rejected', reason: new Error('batch failed') },
      { status: 'fulfilled', value: 'done c' },
    ]);
    expect(batches).toEqual([['a', 'b', 'c'], ['a'], ['b'], ['c']]);
  });

  it('passes on the outcome the run gives each item', async () => {
    const batcher = new Batcher<Item, string>(
      (items) =>
        Promise.resolve(
          items.map((item) =>
            item.fails
              ? { status: 'rejected' as const, reason: new Error(`no ${item.key}`) }
              : { status: 'fulfilled' as const, value: item.key },
          ),
        ),
      (item) => item.key,
    );
    const outcomes = await Promise.allSettled([
      batcher.apply({ key: 'a' }),
      batcher.apply({ key: 'b', fails: true }),
    ]);
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 'a' },
      { status: 'rejected', reason: new Error('no b') },
    ]);
  });

  it('takes items handed in while a batch runs into the next batch', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const batcher = new Batcher<Item, string>(
      async (items) => {
        batches.push(items.map((item) => item.key));
        if (batches.length === 1) await firstHeld;
        return items.map((item) => ({ status: 'fulfilled' as const, value: item.key }));
      },
      (item) => item.key,
    );
    const first = batcher.apply({ key: 'a' });
    await new Promise((resolve) => setImmediate(resolve));
    const later = [batcher.apply({ key: 'b' }), batcher.apply({ key: 'c' })];
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });
});
