import Stripe from 'stripe';
import type { Fault, FaultKind } from './api.faults';
import { DEV_STRIPE_LOCAL_CONTROL_TOKEN } from './control-token';
import type { RequestRecord } from './request.log';
import type { PaymentIntent, Refund } from './stripe.objects';
import type { DeliveryRecord, ReleaseOrder } from './webhook.sender';

export type {
  DeliveryRecord,
  Fault,
  FaultKind,
  PaymentIntent,
  Refund,
  ReleaseOrder,
  RequestRecord,
};

/** The official SDK pointed at a stripe-local server, as a test plays Stripe's dashboard or a shop. */
export function stripeSdk(
  server: { host: string; port: number },
  key = 'sk_test_local',
  options: Stripe.StripeConfig = {},
): Stripe {
  return new Stripe(key, { host: server.host, port: server.port, protocol: 'http', ...options });
}

/**
 * Typed client of stripe-local's control API (`/_control/`), for tests and scripts. It sends the
 * server's control token (`StripeLocal.controlToken`, STRIPE_LOCAL_CONTROL_TOKEN); a server
 * started without one expects the development token, the default here too.
 */
export class StripeLocalClient {
  constructor(
    private readonly baseUrl: string,
    private readonly controlToken: string = DEV_STRIPE_LOCAL_CONTROL_TOKEN,
  ) {}

  /** Confirms as a storefront would with a test card; a decline shows in `last_payment_error`. */
  async confirm(paymentIntentId: string, card: string): Promise<PaymentIntent> {
    return this.call('POST', `/payment_intents/${encodeURIComponent(paymentIntentId)}/confirm`, {
      card,
    });
  }

  /**
   * The next `count` API calls (every call until `clearFaults()` when omitted) fail with `kind`;
   * with `path`, only the calls to that path (`*` for an id: `/v1/payment_intents/*\/cancel`).
   */
  async failNext(kind: FaultKind, count?: number, path?: string): Promise<Fault> {
    return (await this.call<{ fault: Fault }>('POST', '/faults', { kind, count, path })).fault;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  /** Faults cleared, webhook modes back to normal, held events and pending retries discarded, logs emptied. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  async setWebhookEndpoint(url: string, secret?: string): Promise<void> {
    await this.call('POST', '/webhooks/endpoint', { url, secret });
  }

  /** Every following event is delivered `times` times (1 is normal). */
  async duplicateWebhooks(times: number): Promise<void> {
    await this.call('POST', '/webhooks/duplicates', { times });
  }

  /** The next `count` events are never delivered. */
  async dropNextWebhooks(count = 1): Promise<void> {
    await this.call('POST', '/webhooks/drop', { count });
  }

  async holdWebhooks(): Promise<void> {
    await this.call('POST', '/webhooks/hold');
  }

  async heldWebhooks(): Promise<{ id: string; type: string }[]> {
    return (await this.call<{ events: { id: string; type: string }[] }>('GET', '/webhooks/held'))
      .events;
  }

  /** Stops holding; resolves once each held event was tried, one after the other, in `order`. */
  async releaseWebhooks(order: ReleaseOrder = 'received'): Promise<void> {
    await this.call('POST', '/webhooks/release', { order });
  }

  async deliveries(): Promise<DeliveryRecord[]> {
    return (await this.call<{ deliveries: DeliveryRecord[] }>('GET', '/webhooks/deliveries'))
      .deliveries;
  }

  /** Every PaymentIntent and refund of the account, oldest first. */
  async ledger(): Promise<{ paymentIntents: PaymentIntent[]; refunds: Refund[] }> {
    return this.call('GET', '/ledger');
  }

  async requests(): Promise<RequestRecord[]> {
    return (await this.call<{ requests: RequestRecord[] }>('GET', '/requests')).requests;
  }

  private async call<T>(method: string, path: string, body?: object): Promise<T> {
    const response = await fetch(`${this.baseUrl}/_control${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.controlToken}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await response.json()) as T & { error?: { message: string } };
    if (!response.ok)
      throw new Error(
        `stripe-local ${method} ${path}: ${response.status} ${json.error?.message ?? ''}`,
      );
    return json;
  }
}
