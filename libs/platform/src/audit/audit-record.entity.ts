import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type AuditResult = 'success' | 'denied' | 'failed';

@Entity({ name: 'audit_log' })
export class AuditRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column({ type: 'timestamptz' }) at: Date;
  @Column({ type: 'text' }) actor: string;
  @Column({ name: 'tenant_id', type: 'text', nullable: true }) tenantId: string | null;
  @Column({ type: 'text' }) action: string;
  @Column({ name: 'entity_type', type: 'text', nullable: true }) entityType: string | null;
  @Column({ name: 'entity_id', type: 'text', nullable: true }) entityId: string | null;
  @Column({ type: 'text' }) result: AuditResult;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  @Column({ name: 'request_id', type: 'text', nullable: true }) requestId: string | null;
  @Column({ name: 'correlation_id', type: 'text', nullable: true }) correlationId: string | null;
  @Column({ type: 'jsonb', nullable: true }) details: unknown;
}
