import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { TraceCarrier } from '@lib/observability';

/** An event committed with the state change that caused it, waiting for the relay. */
@Entity({ name: 'outbox' })
export class OutboxRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'event_id', type: 'uuid', unique: true })
  eventId: string;

  @Column({ type: 'text' })
  subject: string;

  /** The serialised envelope, published byte for byte (jsonb would reorder its keys). */
  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'correlation_id', type: 'text' })
  correlationId: string;

  @Column({ name: 'causation_id', type: 'text', nullable: true })
  causationId: string | null;

  /** The trace context the event was written in, when tracing is on (W3C `traceparent`...). */
  @Column({ name: 'trace_context', type: 'jsonb', nullable: true })
  traceContext: TraceCarrier | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  createdAt: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt: Date | null;
}
