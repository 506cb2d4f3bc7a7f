import { BaseRpcContext } from '@nestjs/microservices';
import { JsMsg } from '@nats-io/jetstream';
import { MsgHdrs } from '@nats-io/nats-core';

export interface JetStreamDelivery {
  message: JsMsg;
  stream: string;
  consumer: string;
}

/** What a handler can know about the delivery besides the event itself. */
export class JetStreamContext extends BaseRpcContext<[JetStreamDelivery]> {
  /** Set by the inbox when the event had already been handled, for the consumed-events metric. */
  duplicate = false;

  get subject(): string {
    return this.args[0].message.subject;
  }
  get headers(): MsgHdrs | undefined {
    return this.args[0].message.headers;
  }
  get deliveryCount(): number {
    return this.args[0].message.info.deliveryCount;
  }
  get streamSequence(): number {
    return this.args[0].message.seq;
  }
  get stream(): string {
    return this.args[0].stream;
  }
  /** The durable consumer name; the inbox keys on it. */
  get consumer(): string {
    return this.args[0].consumer;
  }
  get message(): JsMsg {
    return this.args[0].message;
  }
}
