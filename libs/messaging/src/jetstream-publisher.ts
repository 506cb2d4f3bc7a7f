import { createInbox, MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';

/** A JetStream publish the stream did not store: no stream, a refusal, or no answer in time. */
export class PublishFailedError extends Error {
  override readonly name = 'PublishFailedError';
}

interface Waiting {
  resolve: () => void;
  reject: (error: Error) => void;
  deadline: number;
}

const utf8 = new TextDecoder();

/** What JetStream answers a publish with (a PubAck, or an error). */
interface PublishAnswer {
  stream?: string;
  error?: { code?: number; description?: string };
}

/**
 * Publishes to JetStream and waits for each acknowledgement on one subscription of its own.
 * nats.js's `js.publish` makes a request per message: a token, a timer and a throwaway error each
 * (its request allocates a "cancelled" error with a stack trace even when it succeeds), which on
 * the outbox's path costs more than the publish. Here a message costs a reply subject and a map
 * entry; one timer a second expires the answers that never came.
 */
export class JetStreamPublisher {
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private readonly sweeper: NodeJS.Timeout;
  private sent = 0;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix: string,
    private readonly timeoutMs = 5_000,
  ) {
    // Unique to this connection: processes of one app share the prefix.
    this.inbox = createInbox(inboxPrefix);
    this.subscription = nc.subscribe(`${this.inbox}.*`, {
      callback: (_error, message) => {
        const token = message.subject.slice(this.inbox.length + 1);
        const waiting = this.waiting.get(token);
        if (!waiting) return;
        this.waiting.delete(token);
        const failure = failureOf(message.data, message.headers);
        if (failure) waiting.reject(new PublishFailedError(failure));
        else waiting.resolve();
      },
    });
    this.sweeper = setInterval(() => this.expire(), Math.min(1_000, timeoutMs));
    this.sweeper.unref();
  }

  /** Resolves once the stream has stored the message (or found it a duplicate of its `msgId`). */
  publish(subject: string, body: string, msgId: string, headers: MsgHdrs): Promise<void> {
    headers.set('Nats-Msg-Id', msgId);
    const token = String(++this.sent);
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, body, { reply: `${this.inbox}.${token}`, headers });
      } catch (error) {
        this.waiting.delete(token);
        reject(error instanceof Error ? error : new PublishFailedError(String(error)));
      }
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.subscription.unsubscribe();
    this.expire(Infinity);
  }

  private expire(now = Date.now()): void {
    for (const [token, waiting] of this.waiting) {
      if (waiting.deadline > now) continue;
      this.waiting.delete(token);
      waiting.reject(new PublishFailedError(`no acknowledgement within ${this.timeoutMs} ms`));
    }
  }
}

/** Why an answer is not an acknowledgement, or undefined when it is one. */
function failureOf(data: Uint8Array, headers: MsgHdrs | undefined): string | undefined {
  // No stream listens on the subject: the server answers "no responders" (503) without a body.
  if (data.length === 0) return `no stream takes this subject (${headers?.code ?? 'empty answer'})`;
  let answer: PublishAnswer;
  try {
    answer = JSON.parse(utf8.decode(data)) as PublishAnswer;
  } catch {
    return 'the acknowledgement is not JSON';
  }
  if (answer.error) return answer.error.description ?? `error ${answer.error.code}`;
  return answer.stream ? undefined : 'the acknowledgement names no stream';
}
