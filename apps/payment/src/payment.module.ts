import { DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@lib/platform';
import { PaymentConfig } from './config';
import { PaymentSagaConsumer } from './payments/payment-saga.consumer';
import { PaymentReconciler } from './payments/payment.reconciler';
import { PaymentTransitions } from './payments/payment.transitions';
import { PaymentsController } from './payments/payments.controller';
import { PaymentsService } from './payments/payments.service';
import { paymentPersistence } from './persistence';
import { StripeGateway } from './stripe/stripe.gateway';
import { StripeWebhookController } from './webhooks/stripe-webhook.controller';
import { StripeWebhooksService } from './webhooks/stripe-webhooks.service';

@Module({})
export class PaymentModule {
  /** `schema` lets test suites run on a schema of their own. */
  static forRoot(config: PaymentConfig, schema = paymentPersistence.schema): DynamicModule {
    return {
      module: PaymentModule,
      imports: [
        PlatformModule.forRoot({ service: 'payment', config, ...paymentPersistence, schema }),
      ],
      controllers: [PaymentsController, StripeWebhookController, PaymentSagaConsumer],
      providers: [
        { provide: PaymentConfig, useValue: config },
        StripeGateway,
        PaymentTransitions,
        PaymentsService,
        PaymentReconciler,
        StripeWebhooksService,
      ],
    };
  }
}
