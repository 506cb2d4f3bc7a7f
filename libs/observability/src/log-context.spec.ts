import { currentLogContext, withLogContext } from './log-context';

describe('withLogContext', () => {
  it('adds to the context around it for the inner call only, through awaits', async () => {
    const seen: unknown[] = [];
    await withLogContext({ correlationId: 'c-1' }, async () => {
      await withLogContext({ eventId: 'e-1' }, async () => {
        await Promise.resolve();
        seen.push(currentLogContext());
      });
      seen.push(currentLogContext());
    });
    expect(seen).toEqual([{ correlationId: 'c-1', eventId: 'e-1' }, { correlationId: 'c-1' }]);
    expect(currentLogContext()).toBeUndefined();
  });

  it('keeps concurrent contexts apart', async () => {
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const ids = await Promise.all(
      ['a', 'b'].map((id) =>
        withLogContext({ eventId: id }, async () => {
          await tick();
          return currentLogContext()?.eventId;
        }),
      ),
    );
    expect(ids).toEqual(['a', 'b']);
  });
});
