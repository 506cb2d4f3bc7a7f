import { Inject, Injectable } from '@nestjs/common';
import { Batcher, batchWindow, MESSAGING_OPTIONS, MessagingOptions } from '@lib/messaging';
import { OrderSagaOrchestrator, SagaOutcome, SagaReply } from './order-saga.orchestrator';

/**
 * The replies that arrive together, applied as one batch (`OrderSagaOrchestrator.applyAll`: one
 * load and one write for all of them). A saga's second reply waits for the next batch, so it
 * applies to the version the first wrote.
 */
@Injectable()
export class SagaReplyBatcher extends Batcher<SagaReply, SagaOutcome> {
  constructor(
    orchestrator: OrderSagaOrchestrator,
    @Inject(MESSAGING_OPTIONS) messaging: MessagingOptions,
  ) {
    super(
      (replies) => orchestrator.applyAll(replies),
      (reply) => reply.orderId,
      batchWindow(messaging),
    );
  }
}
