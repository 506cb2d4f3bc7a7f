import { Injectable, Logger } from '@nestjs/common';
import { DependencyGate, DependencyGates } from '@lib/messaging';
import { inSpan, SpanKind, TraceCarrier } from '@lib/observability';
import Stripe from 'stripe';
import { CaptureMethod, PaymentConfig } from '../config';
import { paymentMetrics } from '../payment.metrics';
import { CircuitBreaker, CircuitOpenError, CircuitState } from './circuit-breaker';

/**
 * The API version every request and every webhook endpoint speaks: stripe-node 23's own, pinned so
 * an account default or an SDK upgrade cannot change the objects under us (tsc fails on an SDK whose
 * version differs). The webhook endpoint must be created with the same `api_version`.
 */
export const STRIPE_API_VERSION: Stripe.LatestApiVersion = '2026-10-28.endive';

/** How old or how far ahead a webhook signature's timestamp may be, in seconds (Stripe's default). */
export const WEBHOOK_TOLERANCE_S = 300;

const CIRCUIT_GAUGE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** How often, at most, the paused consumers ask whether Stripe is back. */
const PROBE_EVERY_MS = 1000;

export interface IntentRequest {
  orderId: string;
  sagaId: string | null;
  correlationId: string;
  amountMinor: number;
  currency: string;
  /** The payment's trace, when tracing is on: its webhooks are linked to it through the metadata. */
  traceContext: TraceCarrier | null;
}

/** Stripe could not be reached or answered 5xx: nothing was decided, so the call may be retried. */
export function isStripeOutage(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeConnectionError
  );
}

/** Stripe looked at the request and said no (a declined card, a request it refuses). */
export function isStripeRefusal(
  error: unknown,
): error is Stripe.errors.StripeCardError | Stripe.errors.StripeInvalidRequestError {
  return (
    error instanceof Stripe.errors.StripeCardError ||
    error instanceof Stripe.errors.StripeInvalidRequestError
  );
}

export function hasStripeCode(error: unknown, code: string): boolean {
  return error instanceof Stripe.errors.StripeError && error.code === code;
}

/**
 * The app's only door to Stripe: the official SDK (pointed at a local server by config), every
 * call timed, behind one circuit breaker, with the idempotency key the caller derives from the saga
 * step, so a retried step gets Stripe's first answer back instead of a second effect.
 */
@Injectable()
export class StripeGateway {
  private readonly logger = new Logger(StripeGateway.name);
  private readonly stripe: Stripe;
  private readonly breaker: CircuitBreaker;
  private readonly captureMethod: CaptureMethod;
  private readonly webhookSecret: string;
  /** A live key (`sk_live_`, `rk_live_`): only `livemode: true` webhook events are about its payments. */
  readonly liveKey: boolean;
  /** Closed while the circuit is open: the consumers hold their messages instead of failing them. */
  private readonly gate: DependencyGate;

  constructor(config: PaymentConfig, gates: DependencyGates) {
    this.stripe = new Stripe(config.STRIPE_SECRET_KEY, {
      apiVersion: STRIPE_API_VERSION,
      host: config.STRIPE_API_HOST,
      port: config.STRIPE_API_PORT,
      protocol: config.STRIPE_API_PROTOCOL,
      timeout: config.STRIPE_TIMEOUT_MS,
      maxNetworkRetries: config.STRIPE_MAX_NETWORK_RETRIES,
      telemetry: false,
    });
    this.captureMethod = config.STRIPE_CAPTURE_METHOD;
    this.webhookSecret = config.STRIPE_WEBHOOK_SECRET;
    this.liveKey = /^(sk|rk)_live_/.test(config.STRIPE_SECRET_KEY);
    paymentMetrics.circuitState.set(CIRCUIT_GAUGE.closed);
    // Probed more often than the circuit lets a call through: a refused probe costs no request.
    this.gate = gates.add(
      new DependencyGate('stripe', {
        probe: () => this.probe(),
        probeEveryMs: Math.min(config.STRIPE_BREAKER_OPEN_MS, PROBE_EVERY_MS),
      }),
    );
    this.breaker = new CircuitBreaker({
      failureThreshold: config.STRIPE_BREAKER_FAILURES,
      openMs: config.STRIPE_BREAKER_OPEN_MS,
      onStateChange: (state) => {
        paymentMetrics.circuitState.set(CIRCUIT_GAUGE[state]);
        this.logger.warn({ msg: 'Stripe circuit breaker', state });
        if (state === 'open') this.gate.close('the Stripe circuit is open');
        if (state === 'closed') this.gate.open();
      },
    });
  }

  /** Whether Stripe is taking calls, as far as the circuit knows. */
  get available(): boolean {
    return this.gate.isOpen;
  }

  createIntent(request: IntentRequest, idempotencyKey: string): Promise<Stripe.PaymentIntent> {
    const { orderId, sagaId, correlationId, amountMinor, currency, traceContext } = request;
    return this.call('create_intent', () =>
      this.stripe.paymentIntents.create(
        {
          amount: amountMinor,
          currency: currency.toLowerCase(),
          capture_method: this.captureMethod,
          automatic_payment_methods: { enabled: true },
          metadata: { orderId, sagaId: sagaId ?? '', correlationId, ...traceContext },
        },
        { idempotencyKey },
      ),
    );
  }

  retrieveIntent(id: string): Promise<Stripe.PaymentIntent> {
    return this.call('retrieve_intent', () => this.stripe.paymentIntents.retrieve(id));
  }

  cancelIntent(id: string, idempotencyKey: string): Promise<Stripe.PaymentIntent> {
    return this.call('cancel_intent', () =>
      this.stripe.paymentIntents.cancel(id, {}, { idempotencyKey }),
    );
  }

  captureIntent(id: string, idempotencyKey: string): Promise<Stripe.PaymentIntent> {
    return this.call('capture_intent', () =>
      this.stripe.paymentIntents.capture(id, {}, { idempotencyKey }),
    );
  }

  refund(paymentIntentId: string, idempotencyKey: string): Promise<Stripe.Refund> {
    return this.call('create_refund', () =>
      this.stripe.refunds.create({ payment_intent: paymentIntentId }, { idempotencyKey }),
    );
  }

  /** The cheapest call there is, through the circuit: its half-open probe while calls are paused. */
  private probe(): Promise<Stripe.Balance> {
    return this.call('retrieve_balance', () => this.stripe.balance.retrieve());
  }

  /**
   * Checks `Stripe-Signature` against the exact bytes Stripe sent, and its timestamp: within the
   * tolerance either way. The SDK refuses only old ones; a signature dated ahead would stay valid
   * until long after it was captured.
   */
  verifyWebhook(rawBody: Buffer, signature: string): Stripe.Event {
    const event = this.stripe.webhooks.constructEvent(
      rawBody,
      signature,
      this.webhookSecret,
      WEBHOOK_TOLERANCE_S,
    );
    const signedAt = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
    if (!(signedAt <= Date.now() / 1000 + WEBHOOK_TOLERANCE_S)) {
      throw new Error('the signature timestamp is in the future, beyond the tolerance');
    }
    return event;
  }

  /** A call to Stripe, in a CLIENT span of its own (the SDK's HTTP request is its child). */
  private call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    const span = { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'stripe', operation } };
    return inSpan(`stripe ${operation}`, span, () => this.timed(operation, request));
  }

  private async timed<T>(operation: string, request: () => Promise<T>): Promise<T> {
    const stopTimer = paymentMetrics.requestSeconds.startTimer({ operation });
    try {
      const result = await this.breaker.run(request, isStripeOutage);
      stopTimer({ outcome: 'ok' });
      return result;
    } catch (error) {
      stopTimer({ outcome: outcomeOf(error) });
      throw error;
    }
  }
}

function outcomeOf(error: unknown): string {
  if (error instanceof Stripe.errors.StripeCardError) return 'card_error';
  if (error instanceof Stripe.errors.StripeInvalidRequestError) return 'invalid_request';
  if (isStripeOutage(error)) return 'unavailable';
  if (error instanceof CircuitOpenError) return 'circuit_open';
  return 'error';
}
