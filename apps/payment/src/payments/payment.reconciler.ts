import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, In, LessThan, Not } from 'typeorm';
import { errorMessage } from '@lib/messaging';
import { RepeatingTask } from '@lib/platform';
import { PaymentConfig } from '../config';
import { paymentMetrics } from '../payment.metrics';
import { StripeGateway } from '../stripe/stripe.gateway';
import { Payment } from './payment.entity';
import { PaymentsService, SettledBy } from './payments.service';

const BATCH = 100;

/**
 * Money safety that does not depend on a message arriving: the payment of an order payment knows is
 * cancelled must end with its intent cancelled or its money refunded. A pass every
 * `PAYMENT_RECONCILE_INTERVAL_MS` undoes those its compensation left unsettled (lost, or still
 * retrying since at least an interval), and a success Stripe reports after the cancel is refunded
 * at once, without waiting for the saga. Every Stripe call carries the step's idempotency key, so a
 * pass racing the compensation or another instance changes nothing twice.
 */
@Injectable()
export class PaymentReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PaymentReconciler.name);
  private passes?: RepeatingTask;

  constructor(
    private readonly dataSource: DataSource,
    private readonly payments: PaymentsService,
    private readonly stripe: StripeGateway,
    private readonly config: PaymentConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.passes = new RepeatingTask(
      () => this.pass(),
      this.config.PAYMENT_RECONCILE_INTERVAL_MS,
      (error) =>
        this.logger.warn({ msg: 'reconciliation pass failed', error: errorMessage(error) }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.passes?.stop();
  }

  /** Settles the unsettled payments of cancelled orders; answers how many it fixed. */
  async pass(): Promise<number> {
    // Paused while Stripe is down: its circuit's probe says when to go on.
    if (!this.stripe.available) return 0;
    const settledBefore = new Date(Date.now() - this.config.PAYMENT_RECONCILE_INTERVAL_MS);
    const due = await this.dataSource.getRepository(Payment).find({
      select: { orderId: true },
      // A payment of an order not known cancelled has no `order_cancelled_at`: never less than.
      where: {
        orderCancelledAt: LessThan(settledBefore),
        status: Not(In(['CANCELLED', 'REFUNDED'])),
      },
      order: { orderCancelledAt: 'ASC' },
      take: BATCH,
    });
    let fixed = 0;
    for (const { orderId } of due) if (await this.settle(orderId, 'pass')) fixed++;
    return fixed;
  }

  /**
   * Money moved, or was authorized, for an order payment knows is cancelled (a webhook after the
   * cancel): give it back now. A failure is left to the next pass.
   */
  settleNow(orderId: string): void {
    if (this.stripe.available) void this.settle(orderId, 'webhook');
  }

  private async settle(orderId: string, by: 'pass' | 'webhook'): Promise<SettledBy | undefined> {
    try {
      const action = await this.payments.settleCancelled(orderId);
      if (action) {
        paymentMetrics.reconciled.inc({ action });
        this.logger.warn({ msg: 'payment of a cancelled order settled', orderId, action, by });
      }
      return action;
    } catch (error) {
      this.logger.warn({
        msg: 'could not settle the payment of a cancelled order, trying again later',
        orderId,
        error: errorMessage(error),
      });
      return undefined;
    }
  }
}
