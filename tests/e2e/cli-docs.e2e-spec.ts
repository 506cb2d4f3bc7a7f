import { randomUUID } from 'node:crypto';
import { createEvent, OrderCreatedV1 } from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { OPERATOR_USER } from '../../infra/nats/permissions';
import { documentedCliCommands, runCli } from '../harness/cli';
import { TEST_OPERATOR_URL } from '../harness/database';
import { SagaSystem } from '../harness/saga-system';
import { readStream } from '../harness/streams';
import { tokenFor } from '../harness/tokens';
import { eventually } from '../harness/wait';

const COMMANDS = documentedCliCommands();

/**
 * Every `npm run cli -- ...` and `saga-cli ...` command the documentation shows (README.md,
 * docs/, the tools' READMEs), run as written against a running system, its placeholders filled
 * with real values: the documentation cannot drift from the CLI.
 */
describe('the CLI commands of the documentation', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start({ payment: () => 'pending-only' });
    await system.putProduct('DOC-1', 1000, 500);
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('finds the commands of the runbook, the README and security.md', () => {
    const files = new Set(COMMANDS.map((command) => command.file));
    expect([...files]).toEqual(
      expect.arrayContaining(['README.md', 'docs/runbook.md', 'docs/security.md']),
    );
    expect(COMMANDS.length).toBeGreaterThanOrEqual(20);
  });

  /** An order whose saga waits for its payment: what saga actions act on. */
  async function pendingOrder(): Promise<string> {
    const orderId = await system.placeOrder([{ sku: 'DOC-1', quantity: 1 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    return orderId;
  }

  /** A fresh dead letter (an order.created of an unknown version): its DLQ sequence. */
  async function deadLetter(): Promise<number> {
    const broken = {
      ...createEvent(OrderCreatedV1, {
        orderId: randomUUID(),
        customerId: 'c',
        currency: 'EUR',
        items: [{ sku: 'DOC-1', quantity: 1 }],
      }),
      eventVersion: 7,
    };
    const ack = await system.js.publish('order.created.v1', JSON.stringify(broken), {
      msgID: randomUUID(),
    });
    const letter = await eventually(async () =>
      (await readStream<DeadLetter>(system.jsm, 'DLQ')).find((m) => m.body.sequence === ack.seq),
    );
    return letter.seq;
  }

  /** The value a placeholder stands for, made for this one command. */
  async function valueOf(placeholder: string): Promise<string> {
    switch (placeholder) {
      case '<orderId|sagaId>':
      case '<orderId>':
        return pendingOrder();
      case '<dlqSeq>':
        return String(await deadLetter());
      case '<stream>':
        return 'INVENTORY';
      case '<seq>':
        return String((await system.jsm.streams.info('INVENTORY')).state.first_seq);
      case '<command>':
        return '--help';
      default:
        throw new Error(`the docs use a placeholder this test does not know: ${placeholder}`);
    }
  }

  it.each(COMMANDS.map((command) => [`${command.args.join(' ')} (${command.file})`, command]))(
    '%s',
    async (_name, { args }) => {
      const filled: string[] = [];
      for (const arg of args) filled.push(/^<.+>$/.test(arg) ? await valueOf(arg) : arg);
      const result = await runCli(
        {
          // The operator's NATS user and database role, and an operator's token for the saga
          // actions, as operators run it.
          ...system.nats.env(OPERATOR_USER),
          DATABASE_URL: TEST_OPERATOR_URL,
          SAGA_CLI_ACTOR: 'ops-docs',
          SAGA_CLI_TOKEN: await tokenFor('ops-docs', ['operator']),
          ORDER_API_URL: system.order.url,
        },
        filled,
      );
      if (filled[0] === 'saga' && filled[1] === 'resolve') {
        // Closes a FAILED saga only: the app's refusal of one awaiting payment shows the command
        // reached it as written.
        expect(result).toMatchObject({
          code: 1,
          stderr: expect.stringContaining('SAGA.ACTION_NOT_ALLOWED'),
        });
        return;
      }
      expect({ args: filled, ...result }).toMatchObject({ code: 0 });
    },
    120_000,
  );
});
