import { SagaStepView } from '@lib/operator-api';
import { ConversationEvent } from '@lib/operations';

/** A transition of the saga's state, from its step log. */
export interface StateRow {
  kind: 'state';
  at: string;
  from: string | null;
  to: string;
  /** The event subject, or `deadline`, `operator-retry`, ... */
  trigger: string;
  reason: string | null;
}

/** An event of the saga's conversation, where the stream stored it. */
export interface EventRow {
  kind: 'event';
  at: string;
  subject: string;
  stream: string;
  seq: number;
  eventId: string;
}

export type TimelineRow = (StateRow | EventRow) & {
  /** Since the row before; null for the first. */
  gapMs: number | null;
};

/**
 * The saga's states and the events of its conversation on one time line, oldest first, each with
 * the gap since the one before: where a saga waited, and on whom. An event sorts before a state
 * change of the same instant (the event caused it).
 */
export function sagaTimeline(steps: SagaStepView[], events: ConversationEvent[]): TimelineRow[] {
  const rows: (StateRow | EventRow)[] = [
    ...events.map((e): EventRow => ({
      kind: 'event',
      at: e.event.occurredAt,
      subject: e.subject,
      stream: e.stream,
      seq: e.seq,
      eventId: e.event.eventId,
    })),
    ...steps.map((s): StateRow => ({
      kind: 'state',
      at: s.at,
      from: s.from,
      to: s.to,
      trigger: s.trigger,
      reason: s.reason,
    })),
  ];
  rows.sort(
    (a, b) =>
      Date.parse(a.at) - Date.parse(b.at) || (a.kind === b.kind ? 0 : a.kind === 'event' ? -1 : 1),
  );
  return rows.map((row, i) => ({
    ...row,
    gapMs: i === 0 ? null : Date.parse(row.at) - Date.parse(rows[i - 1]!.at),
  }));
}
