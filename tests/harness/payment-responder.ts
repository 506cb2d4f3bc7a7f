import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamClient,
  JetStreamManager,
} from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import {
  createEvent,
  EventEnvelope,
  OrderPaymentRequestedV1,
  OrderPaymentRequestedV1Payload,
  PaymentFailedV1,
  PaymentPendingV1,
  PaymentSucceededV1,
} from '@lib/contracts';
import { PULL_TIMING } from '@lib/messaging';
import { publishEvent } from './events';

export type PaymentAnswer = 'succeed' | 'decline' | 'pending-only' | 'silent';

/**
 * Plays the payment participant until the payment app exists: reads `order.payment-requested.v1`
 * from JetStream and answers with real `payment.*` events, as the decision for each order says.
 */
export class PaymentResponder {
  private messages?: ConsumerMessages;
  private readonly requests = new Map<string, EventEnvelope<OrderPaymentRequestedV1Payload>>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly decide: (orderId: string) => PaymentAnswer | Promise<PaymentAnswer> = () =>
      'succeed',
  ) {}

  async start(): Promise<void> {
    const durable = `payment-responder-${randomUUID().slice(0, 8)}`;
    await this.jsm.consumers.add('ORDERS', {
      durable_name: durable,
      filter_subject: OrderPaymentRequestedV1.subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
    });
    const consumer = await this.js.consumers.get('ORDERS', durable);
    // With the apps' pull timing, so that it too follows a new consumer leader within seconds.
    this.messages = await consumer.consume({ max_messages: 256, ...PULL_TIMING });
    void (async () => {
      for await (const message of this.messages!) {
        const request = message.json<EventEnvelope<OrderPaymentRequestedV1Payload>>();
        this.requests.set(request.payload.orderId, request);
        // Answered concurrently, as a payment service with many requests in flight would. An
        // answer JetStream did not take (a stream leader election) is given again on redelivery.
        void Promise.resolve(this.decide(request.payload.orderId))
          .then((answer) => this.answer(request, answer))
          .then(
            () => message.ack(),
            () => message.nak(200),
          );
      }
    })();
  }

  async stop(): Promise<void> {
    await this.messages?.close();
  }

  /** Answers an order's payment request now (for answers given later than the request). */
  async answerLater(orderId: string, answer: PaymentAnswer): Promise<void> {
    const request = this.requests.get(orderId);
    if (!request) throw new Error(`no payment request seen for order ${orderId}`);
    await this.answer(request, answer);
  }

  hasRequest(orderId: string): boolean {
    return this.requests.has(orderId);
  }

  private async answer(
    request: EventEnvelope<OrderPaymentRequestedV1Payload>,
    answer: PaymentAnswer,
  ): Promise<void> {
    if (answer === 'silent') return;
    const { orderId, amountMinor, currency } = request.payload;
    const ids = { paymentId: randomUUID(), paymentIntentId: `pi_${orderId.replace(/-/g, '')}` };
    const origin = { cause: request };
    await publishEvent(
      this.js,
      createEvent(PaymentPendingV1, { orderId, ...ids, amountMinor, currency }, origin),
    );
    if (answer === 'succeed') {
      await publishEvent(
        this.js,
        createEvent(PaymentSucceededV1, { orderId, ...ids, amountMinor, currency }, origin),
      );
    } else if (answer === 'decline') {
      const declined = {
        reason: 'Your card was declined.',
        code: 'card_declined',
        declineCode: 'generic_decline',
      };
      await publishEvent(
        this.js,
        createEvent(PaymentFailedV1, { orderId, ...ids, ...declined }, origin),
      );
    }
  }
}
