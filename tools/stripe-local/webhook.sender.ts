import { createHmac } from 'node:crypto';
import { ClientRequest, request } from 'node:http';
import { Logger } from 'pino';
import { StripeEvent } from './stripe.objects';

export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped' | 'no_endpoint';

export interface DeliveryRecord {
  eventId: string;
  type: string;
  /** 1 for the first attempt, counting up through the retries of that copy. */
  attempt: number;
  /** Which copy of the event, when each is delivered several times. */
  copy: number;
  statusCode: number | null;
  outcome: DeliveryOutcome;
  error: string | null;
  at: string;
}

export type ReleaseOrder = 'received' | 'reverse' | string[];

export interface WebhookSenderOptions {
  url: string | undefined;
  secret: string;
  /** The wait before each retry of a failed delivery; its length bounds the retries. */
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  logger: Logger;
}

/** `Stripe-Signature` exactly as Stripe computes it: HMAC-SHA256 of `t.payload` with the endpoint secret. */
function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/**
 * Plays Stripe's side of webhooks: every event is POSTed, signed, to the endpoint after the API
 * answered, and a failed delivery is retried with back-off. On demand it sends each event several
 * times, holds events to release them in another order, or drops them.
 */
export class WebhookSender {
  private url: string | undefined;
  private secret: string;
  private copies = 1;
  private drops = 0;
  private holding = false;
  private readonly heldEvents: StripeEvent[] = [];
  private readonly records: DeliveryRecord[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<ClientRequest>();
  private stopped = false;
  /** Bumped by reset(): attempts of an earlier generation are neither recorded nor retried. */
  private generation = 0;

  constructor(private readonly options: WebhookSenderOptions) {
    this.url = options.url;
    this.secret = options.secret;
  }

  /** Called while the API request is handled; the delivery starts once the response is out. */
  publish(event: StripeEvent): void {
    setImmediate(() => {
      if (this.stopped) return;
      if (this.drops > 0) {
        this.drops -= 1;
        this.record(event, 1, 1, null, 'dropped', null);
      } else if (this.holding) this.heldEvents.push(event);
      else void this.deliver(event);
    });
  }

  setEndpoint(url: string, secret?: string): void {
    this.url = url;
    if (secret) this.secret = secret;
  }

  deliverEachTimes(copies: number): void {
    this.copies = copies;
  }

  dropNext(count: number): void {
    this.drops = count;
  }

  hold(): void {
    this.holding = true;
  }

  held(): { id: string; type: string }[] {
    return this.heldEvents.map(({ id, type }) => ({ id, type }));
  }

  /**
   * Stops holding and delivers the held events one after the other in the given order (event
   * ids first, then the rest as received); resolves when each was tried once.
   */
  async release(order: ReleaseOrder): Promise<void> {
    this.holding = false;
    const events = this.heldEvents.splice(0);
    if (order === 'reverse') events.reverse();
    if (Array.isArray(order)) {
      const rank = (event: StripeEvent) => {
        const index = order.indexOf(event.id);
        return index === -1 ? order.length : index;
      };
      events.sort((a, b) => rank(a) - rank(b));
    }
    for (const event of events) await this.deliver(event);
  }

  deliveries(): DeliveryRecord[] {
    return this.records.map((record) => ({ ...record }));
  }

  /**
   * Back to one delivery per event, nothing held or dropped, an empty log. Held events and
   * pending retries are discarded, so nothing from before reaches the endpoint afterwards.
   */
  reset(): void {
    this.generation += 1;
    this.cancelRetries();
    this.copies = 1;
    this.drops = 0;
    this.holding = false;
    this.heldEvents.length = 0;
    this.records.length = 0;
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetries();
    this.inFlight.forEach((req) => req.destroy());
  }

  private cancelRetries(): void {
    this.retryTimers.forEach(clearTimeout);
    this.retryTimers.clear();
  }

  private async deliver(event: StripeEvent): Promise<void> {
    for (let copy = 1; copy <= this.copies; copy++) await this.attempt(event, copy, 1);
  }

  private async attempt(event: StripeEvent, copy: number, attempt: number): Promise<void> {
    const { url, generation } = this;
    if (!url) return this.record(event, copy, attempt, null, 'no_endpoint', null);
    const payload = JSON.stringify(event, null, 2);
    const signature = signatureHeader(payload, this.secret, Math.floor(Date.now() / 1000));
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = await this.post(url, payload, signature);
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause);
    }
    if (this.stopped || generation !== this.generation) return;
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
    this.record(event, copy, attempt, statusCode, delivered ? 'delivered' : 'failed', error);
    const delay = this.options.retryDelaysMs[attempt - 1];
    if (delivered || delay === undefined) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void this.attempt(event, copy, attempt + 1);
    }, delay);
    this.retryTimers.add(timer);
  }

  private post(url: string, payload: string, signature: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: false,
          timeout: this.options.timeoutMs,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(payload),
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'Stripe-Signature': signature,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      this.inFlight.add(req);
      req.on('close', () => this.inFlight.delete(req));
      req.on('timeout', () =>
        req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  private record(
    event: StripeEvent,
    copy: number,
    attempt: number,
    statusCode: number | null,
    outcome: DeliveryOutcome,
    error: string | null,
  ): void {
    const record: DeliveryRecord = {
      eventId: event.id,
      type: event.type,
      attempt,
      copy,
      statusCode,
      outcome,
      error,
      at: new Date().toISOString(),
    };
    this.records.push(record);
    const log = outcome === 'delivered' ? 'info' : 'warn';
    this.options.logger[log]({ ...record, at: undefined }, `webhook ${outcome}`);
  }
}
