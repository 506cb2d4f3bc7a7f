import { EventEnvelope } from '@lib/contracts';
import { ConversationEvent } from '@lib/operations';
import { sagaTimeline } from './saga-timeline';

const event = (subject: string, at: string, seq: number): ConversationEvent => ({
  stream: subject.startsWith('order') ? 'ORDERS' : 'INVENTORY',
  seq,
  subject,
  storedAt: at,
  event: { eventId: `e-${seq}`, occurredAt: at } as EventEnvelope,
});

describe('a saga timeline', () => {
  it('puts states and events in time order with the gap since the row before', () => {
    const rows = sagaTimeline(
      [
        {
          from: null,
          to: 'STARTED',
          trigger: 'order.created.v1',
          eventId: null,
          reason: null,
          at: '2026-12-10T10:00:00.010Z',
        },
        {
          from: 'STARTED',
          to: 'STOCK_RESERVED',
          trigger: 'inventory.reserved.v1',
          eventId: null,
          reason: null,
          at: '2026-12-10T10:00:02.000Z',
        },
      ],
      [
        event('inventory.reserved.v1', '2026-12-10T10:00:02.000Z', 7),
        event('order.created.v1', '2026-12-10T10:00:00.000Z', 3),
      ],
    );
    expect(rows.map((r) => [r.kind, r.kind === 'event' ? r.subject : r.to, r.gapMs])).toEqual([
      ['event', 'order.created.v1', null],
      ['state', 'STARTED', 10],
      // The reply and the transition it caused at the same instant: the reply first.
      ['event', 'inventory.reserved.v1', 1990],
      ['state', 'STOCK_RESERVED', 0],
    ]);
  });

  it('is empty for a saga with neither steps nor events', () => {
    expect(sagaTimeline([], [])).toEqual([]);
  });
});
