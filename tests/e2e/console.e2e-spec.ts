import { randomUUID } from 'node:crypto';
import { Locator, Page } from 'playwright-core';
import { createEvent, OrderCreatedV1 } from '@lib/contracts';
import { DeadLetter } from '@lib/messaging';
import { operatorApi } from '@lib/operator-api';
import { mintToken } from '@lib/platform';
import { AppProcess, spawnApp } from '../harness/app-process';
import { untilHandled, untilSettled } from '../harness/app-probes';
import { launchChromium, TestBrowser } from '../harness/browser';
import { startConsole } from '../harness/console';
import { query } from '../harness/database';
import { publishEvent } from '../harness/events';
import { SagaSystem } from '../harness/saga-system';
import { readStream } from '../harness/streams';
import { tokenFor } from '../harness/tokens';
import { eventually } from '../harness/wait';

const PAID = '4242424242424242';
/** The console's usual user: an operator of every tenant and of the event backbone. */
const OPS = { sub: 'ops-erin', roles: ['platform-operator'] };
/** How long a compensation may wait for inventory before the saga fails for an operator. */
const COMPENSATION_TIMEOUT_MS = 8000;

/**
 * The operators' console in a real headless Chromium, in front of the order, inventory and payment
 * apps (with stripe-local), as its own process with its own NATS user and Postgres role. Each case
 * is an operator's journey; the screenshots of the main pages land in artifacts/console.
 */
describe('the operators’ console', () => {
  let system: SagaSystem;
  let consoleApp: AppProcess;
  let browser: TestBrowser;
  let page: Page;
  const url = (path: string) => `${consoleApp.url}${path}`;

  beforeAll(async () => {
    system = await SagaSystem.start({
      order: {
        SAGA_COMPENSATION_TIMEOUT_MS: String(COMPENSATION_TIMEOUT_MS),
        SAGA_DEADLINE_SCAN_MS: '200',
      },
      // Stripe errors fewer than open its circuit (which would hold the request instead) spend a
      // payment request's two deliveries: it is dead-lettered. Once Stripe is back, it goes through.
      paymentApp: {
        NATS_MAX_DELIVER: '2',
        STRIPE_TIMEOUT_MS: '1000',
        STRIPE_MAX_NETWORK_RETRIES: '0',
        STRIPE_BREAKER_OPEN_MS: '200',
      },
    });
    consoleApp = await startConsole(system, { CONSOLE_STUCK_AFTER_MS: '2000' });
    browser = await launchChromium();
    page = browser.page;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await consoleApp?.stop();
    await system?.stop();
  });

  /** The text of the first element `selector` finds, once there is one, as a reader sees it. */
  const text = async (selector: string) =>
    ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const mainText = () => text('main');
  const outcome = () => text('main [role=status], main [role=alert]');

  /** Clicks and waits for the page it leads to. */
  async function follow(target: Locator): Promise<void> {
    await Promise.all([page.waitForNavigation(), target.click()]);
  }

  async function signIn(token: string): Promise<void> {
    await page.goto(url('/login'));
    await page.fill('#token', token);
    await follow(page.locator('main button[type=submit]'));
  }

  /** Reloads the page until `check` holds: the apps move on their own time. */
  async function untilPage(check: () => Promise<boolean>, what: string): Promise<void> {
    await eventually(
      async () => {
        if (await check()) return true;
        await page.reload();
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 300, what },
    );
  }

  /** An order the customer pays for at once: its saga COMPLETED. */
  async function completedOrder(sku: string): Promise<string> {
    const orderId = await system.placeOrder([{ sku, quantity: 1 }]);
    const payment = await system.untilPayment(orderId, 'PENDING');
    await system.stripe!.confirm(payment.paymentIntentId!, PAID);
    await system.untilSaga(orderId, 'COMPLETED');
    return orderId;
  }

  async function sagaIdOf(orderId: string): Promise<string> {
    return (await system.getOrder(orderId)).saga.sagaId;
  }

  /** What the order app recorded for the console's operator about one order. */
  const sagaAudit = (orderId: string) =>
    query<{ actor: string; action: string; reason: string | null }>(
      `SELECT actor, action, reason FROM orders.audit_log
       WHERE action LIKE 'saga.%' AND details ->> 'orderId' = $1 ORDER BY id`,
      [orderId],
    );

  it('refuses a customer’s token at sign-in, and every page to someone not signed in', async () => {
    await page.goto(url('/sagas'));
    expect(new URL(page.url()).pathname).toBe('/login');
    await signIn(await tokenFor('customer-1', ['customer']));
    expect(await outcome()).toContain('do not grant the console');
    expect((await browser.context.cookies()).map((c) => c.name)).not.toContain('console_session');
    await page.goto(url('/dead-letters'));
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('signs in an operator with a token kept in an HttpOnly, SameSite=Strict cookie', async () => {
    await system.putProduct('CONSOLE-1', 50, 1999);
    await signIn(await tokenFor(OPS.sub, OPS.roles));
    expect(new URL(page.url()).pathname).toBe('/sagas');
    expect(await text('h1')).toBe('Sagas');
    const session = (await browser.context.cookies()).find((c) => c.name === 'console_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The token is never on the page.
    expect(await page.content()).not.toContain(session!.value);
    expect(await text('header')).toContain(`${OPS.sub} · platform-operator`);
  });

  it('finds a completed order by its id and shows its timeline, payment and reservation', async () => {
    const orderId = await completedOrder('CONSOLE-1');
    await page.goto(url('/sagas'));
    await page.fill('#q', orderId);
    await follow(page.locator('form[role=search] button'));
    await follow(page.locator('main table a').first());
    expect(await text('h1')).toBe(`Saga ${await sagaIdOf(orderId)}`);
    const timeline = page.locator('table', {
      has: page.locator('caption', { hasText: 'Timeline' }),
    });
    const timelineText = (await timeline.textContent()) ?? '';
    for (const subject of [
      'order.created.v1',
      'inventory.reserved.v1',
      'order.payment-requested.v1',
      'payment.pending.v1',
      'payment.succeeded.v1',
      'order.confirmed.v1',
    ])
      expect(timelineText).toContain(subject);
    const [created] = (await readStream(system.jsm, 'ORDERS', 'order.created.v1')).filter(
      (m) => (m.body as { payload: { orderId: string } }).payload.orderId === orderId,
    );
    expect(timelineText).toContain(`ORDERS/${created!.seq}`);
    const states = (await timeline.locator('tr.step').allTextContents()).map((row) =>
      row.replace(/\s+/g, ' '),
    );
    expect(states).toEqual([
      expect.stringContaining('STARTED'),
      expect.stringContaining('STARTED → STOCK_RESERVED'),
      expect.stringContaining('STOCK_RESERVED → PAYMENT_PENDING'),
      expect.stringContaining('PAYMENT_PENDING → COMPLETED'),
    ]);
    // The payment and the reservation, from their apps.
    expect(await mainText()).toContain('SUCCEEDED');
    expect(await mainText()).toContain('COMMITTED');
    expect(await page.content()).not.toMatch(/_secret_/);
    await browser.screenshot('saga-detail');
  });

  it('filters the stuck sagas (inventory stopped) and retries one, which then completes', async () => {
    await system.stopInventory();
    const orderId = await system.placeOrder([{ sku: 'CONSOLE-1', quantity: 1 }]);
    const sagaId = await sagaIdOf(orderId);
    // Inventory lost the command: it is gone from the stream before inventory is back.
    const [sent] = (await readStream(system.jsm, 'ORDERS', 'order.created.v1')).filter(
      (m) => (m.body as { payload: { orderId: string } }).payload.orderId === orderId,
    );
    await system.jsm.streams.deleteMessage('ORDERS', sent!.seq);
    await system.startInventory();

    await page.goto(url('/sagas'));
    await follow(page.getByRole('link', { name: 'Stuck (2s)' }));
    await untilPage(
      async () => (await mainText()).includes(orderId),
      'the saga to be listed as stuck',
    );
    await browser.screenshot('sagas-stuck');
    await follow(page.locator(`a[href="/sagas/${sagaId}"]`));
    await follow(page.getByRole('link', { name: 'Retry step…' }));
    expect(await text('h1')).toBe(`Retry saga ${sagaId}?`);
    await page.fill('#note', 'inventory lost the command');
    await browser.screenshot('confirm-retry');
    await follow(page.getByRole('button', { name: `Retry saga ${sagaId}` }));
    expect(await outcome()).toContain('from STARTED to STARTED and emitted order.created.v1');

    const payment = await system.untilPayment(orderId, 'PENDING');
    await system.stripe!.confirm(payment.paymentIntentId!, PAID);
    await page.goto(url(`/sagas/${sagaId}`));
    await untilPage(
      async () => (await page.locator('.facts .state').first().textContent()) === 'COMPLETED',
      'the retried saga to complete',
    );
    expect(await sagaAudit(orderId)).toEqual([
      { actor: OPS.sub, action: 'saga.retry', reason: 'inventory lost the command' },
    ]);
  });

  it('force-cancels a saga awaiting payment: the stock comes back', async () => {
    await system.putProduct('CONSOLE-2', 5, 500);
    const orderId = await system.placeOrder([{ sku: 'CONSOLE-2', quantity: 2 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    expect(await system.product('CONSOLE-2')).toMatchObject({ available: 3, reserved: 2 });
    const sagaId = await sagaIdOf(orderId);

    await page.goto(url(`/sagas/${sagaId}`));
    await follow(page.getByRole('link', { name: 'Force cancel…' }));
    expect(await text('h1')).toBe(`Cancel saga ${sagaId}?`);
    expect(await mainText()).toContain(orderId);
    await follow(page.getByRole('button', { name: `Cancel saga ${sagaId}` }));
    expect(await outcome()).toContain('from PAYMENT_PENDING to COMPENSATING');

    await system.untilSaga(orderId, 'CANCELLED');
    expect(await system.product('CONSOLE-2')).toMatchObject({ available: 5, reserved: 0 });
    await page.goto(url(`/sagas/${sagaId}`));
    expect(await text('.facts .state')).toBe('CANCELLED');
    expect(await mainText()).toContain('RELEASED');
    expect(await sagaAudit(orderId)).toEqual([
      { actor: OPS.sub, action: 'saga.cancel', reason: null },
    ]);
  });

  it('resolves a FAILED saga with a note', async () => {
    await system.putProduct('CONSOLE-3', 5, 700);
    const orderId = await system.placeOrder([{ sku: 'CONSOLE-3', quantity: 1 }]);
    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    const sagaId = await sagaIdOf(orderId);
    // The compensation cannot complete while inventory is down: the saga fails for an operator.
    await system.stopInventory();
    const ops = operatorApi({
      baseUrl: system.order.url,
      token: await tokenFor('ops-api', ['operator']),
    });
    await ops.act(sagaId, 'cancel');
    await system.untilSaga(orderId, 'FAILED', COMPENSATION_TIMEOUT_MS + 20_000);
    await system.startInventory();

    await page.goto(url('/sagas?state=FAILED'));
    await follow(page.locator(`a[href="/sagas/${sagaId}"]`));
    await follow(page.getByRole('link', { name: 'Resolve…' }));
    await page.fill('#note', 'stock counted and released by hand, OPS-42');
    await follow(page.getByRole('button', { name: `Resolve saga ${sagaId}` }));
    expect(await outcome()).toContain('from FAILED to RESOLVED and emitted order.resolved.v1');
    expect((await system.getOrder(orderId)).saga.state).toBe('RESOLVED');
    expect((await sagaAudit(orderId)).at(-1)).toEqual({
      actor: OPS.sub,
      action: 'saga.resolve',
      reason: 'stock counted and released by hand, OPS-42',
    });
    // Resolved, it allows nothing more.
    await page.goto(url(`/sagas/${sagaId}`));
    expect(await mainText()).toContain('No operator action applies in state RESOLVED');
  });

  it('replays a dead-lettered payment request once Stripe is back: it is handled once', async () => {
    await system.putProduct('CONSOLE-4', 5, 900);
    await system.stripe!.failNext('api_error');
    const orderId = await system.placeOrder([{ sku: 'CONSOLE-4', quantity: 1 }]);
    await system.untilSaga(orderId, 'STOCK_RESERVED');
    const letter = await eventually(
      async () => {
        const letters = await readStream<DeadLetter>(system.jsm, 'DLQ');
        return letters.find(
          (l) => l.body.subject === 'order.payment-requested.v1' && l.body.body.includes(orderId),
        );
      },
      { timeoutMs: 30_000, what: 'the payment request to be dead-lettered' },
    );
    await untilSettled(system.jsm, 'payment', 'order.payment-requested.v1');
    await system.stripe!.clearFaults();

    await page.goto(url('/dead-letters'));
    expect(await mainText()).toContain('payment__order_payment-requested_v1');
    await browser.screenshot('dead-letters');
    await follow(page.getByRole('link', { name: String(letter.seq), exact: true }));
    expect(await text('h1')).toBe(`Dead letter ${letter.seq}`);
    expect(await mainText()).toContain(orderId);
    await browser.screenshot('dead-letter');
    await follow(page.getByRole('link', { name: 'Replay…' }));
    await page.fill('#note', 'Stripe is back');
    await follow(page.getByRole('button', { name: 'Replay 1 dead letter(s)' }));
    expect(await outcome()).toContain('Replayed 1 dead letter(s)');

    await system.untilSaga(orderId, 'PAYMENT_PENDING');
    await untilSettled(system.jsm, 'payment', 'order.payment-requested.v1');
    expect(
      await system.jsm.streams.getMessage('DLQ', { seq: letter.seq }).catch(() => null),
    ).toBeNull();
    const pending = await system.events('PAYMENTS', orderId, 'payment.pending.v1');
    expect(pending).toHaveLength(1);
    // The same request once more (a second replay): the inbox skips it, nothing new happens.
    const [request] = await system.events('ORDERS', orderId, 'order.payment-requested.v1');
    const seq = await publishEvent(system.js, request!, { asCopy: true });
    await untilHandled(system.jsm, 'payment', 'order.payment-requested.v1', seq);
    expect(await system.events('PAYMENTS', orderId, 'payment.pending.v1')).toHaveLength(1);
    expect(
      await query(
        `SELECT actor, reason, entity_id FROM payments.audit_log WHERE action = 'dlq.replay'`,
      ),
    ).toEqual([
      { actor: OPS.sub, reason: 'Stripe is back', entity_id: `ORDERS/${letter.body.sequence}` },
    ]);
  });

  it('shows the streams and their consumers', async () => {
    await page.goto(url('/streams'));
    expect(await page.locator('main h2').allTextContents()).toEqual([
      'DLQ',
      'INVENTORY',
      'ORDERS',
      'PAYMENTS',
    ]);
    expect(await mainText()).toContain('inventory__order_created_v1');
    // The console's own reading consumers are gone once a page is shown.
    expect(await mainText()).not.toContain('oc_');
    await browser.screenshot('streams');
  });

  it('purges the dead letters after a confirmation', async () => {
    const broken = {
      ...createEvent(OrderCreatedV1, {
        orderId: randomUUID(),
        customerId: 'c',
        currency: 'EUR',
        items: [{ sku: 'CONSOLE-1', quantity: 1 }],
      }),
      eventVersion: 7,
    };
    await system.js.publish('order.created.v1', JSON.stringify(broken), { msgID: randomUUID() });
    await eventually(async () =>
      (await readStream<DeadLetter>(system.jsm, 'DLQ')).some((l) =>
        l.body.body.includes(broken.eventId),
      ),
    );
    await page.goto(url('/dead-letters'));
    await follow(page.getByRole('link', { name: 'Purge every dead letter…' }));
    await follow(page.getByRole('button', { name: /^Purge \d+ dead letter/ }));
    expect(await outcome()).toContain('Purged');
    expect((await system.jsm.streams.info('DLQ')).state.messages).toBe(0);
    expect(
      await query(`SELECT actor, entity_id FROM inventory.audit_log WHERE action = 'dlq.purge'`),
    ).toEqual([{ actor: OPS.sub, entity_id: 'inventory__order_created_v1' }]);
  });

  it('fits a phone and a 1280×800 screen without sideways scrolling of the page', async () => {
    await page.goto(url('/sagas'));
    await browser.screenshot('sagas');
    // Page width beyond the window: sideways scrolling of the whole page.
    const overflow = () =>
      page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const path of ['/sagas', '/dead-letters', '/streams']) {
        await page.goto(url(path));
        expect([path, await overflow()]).toEqual([path, 0]);
      }
      await page.goto(url('/sagas'));
      await browser.screenshot('sagas-phone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  describe('over plain HTTP', () => {
    /** A signed-in browser's cookies and form token, taken from the console itself. */
    async function session(sub: string, roles: string[]) {
      const login = await fetch(url('/login'));
      const csrf = /console_csrf=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!;
      const signedIn = await fetch(url('/login'), {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `console_csrf=${csrf}`,
        },
        body: new URLSearchParams({ _csrf: csrf, token: await tokenFor(sub, roles) }),
      });
      const cookies = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]!);
      const fresh = cookies.find((c) => c.startsWith('console_csrf='))?.split('=')[1];
      return { status: signedIn.status, cookie: cookies.join('; '), csrf: fresh ?? csrf };
    }

    it('sends pages without scripts under a CSP that allows none, and never caches them', async () => {
      const { cookie } = await session(OPS.sub, OPS.roles);
      const res = await fetch(url('/sagas'), { headers: { cookie } });
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('script-src');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(await res.text()).not.toMatch(/<script|\son\w+=/i);
    });

    it('refuses a form without its CSRF token or from another site, and changes nothing', async () => {
      await system.putProduct('CONSOLE-5', 5, 100);
      const orderId = await system.placeOrder([{ sku: 'CONSOLE-5', quantity: 1 }]);
      await system.untilSaga(orderId, 'PAYMENT_PENDING');
      const sagaId = await sagaIdOf(orderId);
      const { cookie, csrf } = await session(OPS.sub, OPS.roles);
      const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
        fetch(url(`/sagas/${sagaId}/cancel`), {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
          body: new URLSearchParams(fields),
        });
      expect((await post({})).status).toBe(403);
      expect((await post({ _csrf: 'x'.repeat(43) })).status).toBe(403);
      expect((await post({ _csrf: csrf }, { origin: 'http://evil.example' })).status).toBe(403);
      expect((await post({ _csrf: csrf }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      const json = await fetch(url(`/sagas/${sagaId}/cancel`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ _csrf: csrf }),
      });
      expect(json.status).toBe(415);
      expect((await system.getOrder(orderId)).saga.state).toBe('PAYMENT_PENDING');
      // The same form with its token acts.
      expect((await post({ _csrf: csrf })).status).toBe(200);
      await system.untilSaga(orderId, 'CANCELLED');
    });

    it('shows a tenant’s operator its sagas but not the dead letters or streams of every tenant', async () => {
      const { status, cookie } = await session('ops-tenant', ['operator']);
      expect(status).toBe(303);
      expect((await fetch(url('/sagas'), { headers: { cookie } })).status).toBe(200);
      for (const path of ['/dead-letters', '/streams', '/dead-letters/purge']) {
        const res = await fetch(url(path), { headers: { cookie } });
        expect([path, res.status]).toEqual([path, 403]);
        expect(await res.text()).toContain('platform-operator');
      }
      const customer = await session('customer-1', ['customer']);
      expect(customer.status).toBe(403);
      expect(customer.cookie).not.toContain('console_session');
    });

    it('answers bad input with a 4xx page, never a 500', async () => {
      const { cookie } = await session(OPS.sub, OPS.roles);
      for (const [path, status] of [
        ['/sagas/not-a-uuid', 400],
        [`/sagas/${randomUUID()}`, 404],
        [`/sagas/${randomUUID()}/explode`, 400],
        ['/sagas?olderThan=forever', 400],
        ['/sagas?state=NOPE', 400],
        ['/sagas?state=FAILED&state=COMPLETED', 400],
        ['/dead-letters/abc', 400],
        ['/dead-letters/99999999', 404],
        ['/dead-letters/replay?seq=0', 400],
        ['/nowhere', 404],
      ] as const) {
        const res = await fetch(url(path), { headers: { cookie } });
        expect([path, res.status]).toEqual([path, status]);
        expect(res.headers.get('content-type')).toContain('text/html');
      }
      const expired = `console_session=${await mintToken(
        { sub: OPS.sub, roles: OPS.roles },
        { ttlSeconds: -3600 },
      )}`;
      const res = await fetch(url('/sagas'), { headers: { cookie: expired }, redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/login?next=%2Fsagas');
    });
  });

  it('refuses to start in production with the development token secret', async () => {
    const started = spawnApp('console', { NODE_ENV: 'production', PORT: '1' });
    expect(await started.exited).toBe(1);
    expect(started.output().stderr).toContain('AUTH_JWT_SECRET');
  });
});
