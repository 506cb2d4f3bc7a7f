import { Injectable } from '@nestjs/common';
import { Batcher, wholeBatch } from '@lib/messaging';
import { SagaRepository, SagaStart } from '../order-saga/saga.repository';

/**
 * The orders placed together, started as one batch (`SagaRepository.start`: one statement and one
 * commit for all of them). Two orders under one Idempotency-Key of one customer never share a
 * batch, so a reused key fails only its own order, which then answers the order already placed
 * under it. No batch window: a request does not wait for others.
 */
@Injectable()
export class OrderStartBatcher extends Batcher<SagaStart, void> {
  constructor(sagas: SagaRepository) {
    super(
      wholeBatch((starts) => sagas.start(starts)),
      ({ order }) =>
        order.idempotencyKey === null
          ? order.id
          : JSON.stringify([order.tenantId, order.customerId, order.idempotencyKey]),
    );
  }
}
