import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public, Refuses } from '@lib/platform';
import {
  InvalidWebhookError,
  StripeWebhooksService,
  WebhookReceipt,
} from './stripe-webhooks.service';

@Controller('webhooks')
export class StripeWebhookController {
  constructor(private readonly webhooks: StripeWebhooksService) {}

  /**
   * Stripe's deliveries: 200 once the event is stored (Stripe retries anything else), 400 when the
   * signature, its timestamp or the body is bad. The signature covers the raw bytes, not parsed JSON.
   */
  @Post('stripe')
  @Public('authenticated by its Stripe signature')
  @HttpCode(200)
  @Refuses(InvalidWebhookError)
  receive(
    @Req() request: RawBodyRequest<FastifyRequest>,
    @Headers('stripe-signature') signature?: string,
  ): Promise<WebhookReceipt> {
    return this.webhooks.receive(request.rawBody, signature);
  }
}
