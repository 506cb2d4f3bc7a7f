import { Injectable } from '@nestjs/common';
import { OrderSagaOrchestrator, SagaOutcome, SagaReply } from './order-saga.orchestrator';

interface Waiting {
  reply: SagaReply;
  resolve: (outcome: SagaOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Applies the replies that arrive together as one batch (`OrderSagaOrchestrator.applyAll`: one load
 * and one write for all of them), and those that arrive while a batch is being written as the next
 * one. A saga's second reply waits for the next batch, so it applies to the version the first wrote.
 */
@Injectable()
export class SagaReplyBatcher {
  private waiting: Waiting[] = [];
  private running = false;

  constructor(private readonly orchestrator: OrderSagaOrchestrator) {}

  apply(reply: SagaReply): Promise<SagaOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ reply, resolve, reject });
      if (this.running) return;
      this.running = true;
      // One event-loop turn lets the messages the transport already holds join the first batch.
      setImmediate(() => void this.run());
    });
  }

  private async run(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch: Waiting[] = [];
      const later: Waiting[] = [];
      const orders = new Set<string>();
      for (const waiting of this.waiting) {
        if (orders.has(waiting.reply.orderId)) later.push(waiting);
        else batch.push(waiting);
        orders.add(waiting.reply.orderId);
      }
      this.waiting = later;
      try {
        const outcomes = await this.orchestrator.applyAll(batch.map((waiting) => waiting.reply));
        outcomes.forEach((outcome, i) => {
          if (outcome.status === 'fulfilled') batch[i]!.resolve(outcome.value);
          else batch[i]!.reject(outcome.reason);
        });
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    this.running = false;
  }
}
