import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEvent } from './envelope';
import { EVENT_CATALOG, eventForSubject } from './event-catalog';
import { InvalidEventError, parseEvent } from './event-validation';
import { OrderCreatedV1 } from './events';

const FIXTURES = join(__dirname, '..', 'fixtures');
const fixture = (subject: string): unknown =>
  JSON.parse(readFileSync(join(FIXTURES, `${subject}.json`), 'utf8'));

/**
 * A fixture is written once, when its version is first published, and never edited. If a change
 * to a payload class makes an old fixture invalid, that change needs a new version instead.
 */
describe('event catalogue', () => {
  it('has exactly one frozen fixture per published version', () => {
    const files = readdirSync(FIXTURES)
      .map((file) => file.replace(/\.json$/, ''))
      .sort();
    expect(files).toEqual(EVENT_CATALOG.map((definition) => definition.subject).sort());
  });

  it.each(EVENT_CATALOG.map((definition) => [definition.subject, definition] as const))(
    '%s still accepts its frozen fixture unchanged',
    (subject, definition) => {
      const body = fixture(subject) as { payload: object };
      const parsed = parseEvent(definition, body);
      expect(JSON.parse(JSON.stringify(parsed))).toEqual(body);
      expect(eventForSubject(subject)).toBe(definition);
    },
  );

  it('names subjects <eventName>.v<version>', () => {
    for (const definition of EVENT_CATALOG) {
      expect(definition.subject).toBe(`${definition.eventName}.v${definition.eventVersion}`);
    }
  });
});

describe('createEvent', () => {
  const payload = {
    orderId: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f',
    customerId: 'c',
    currency: 'EUR',
    items: [{ sku: 'A', quantity: 1 }],
  };

  it('starts a conversation when nothing caused it', () => {
    const event = createEvent(OrderCreatedV1, payload, { sagaId: 'saga-1' });
    expect(event).toMatchObject({
      eventName: 'order.created',
      eventVersion: 1,
      causationId: null,
      sagaId: 'saga-1',
    });
    expect(event.correlationId).toBe(event.eventId);
  });

  it('carries correlation, saga and tenant over from the event being handled, which becomes the cause', () => {
    const cause = createEvent(OrderCreatedV1, payload, {
      correlationId: 'corr-1',
      sagaId: 'saga-1',
      tenantId: 't-1',
    });
    const effect = createEvent(OrderCreatedV1, payload, { cause });
    expect(effect).toMatchObject({
      correlationId: 'corr-1',
      causationId: cause.eventId,
      sagaId: 'saga-1',
      tenantId: 't-1',
    });
    expect(effect.eventId).not.toBe(cause.eventId);
  });
});

describe('parseEvent', () => {
  const valid = () => fixture('order.created.v1') as Record<string, unknown>;

  it.each([
    ['a wrong version', { eventVersion: 2 }, /expected order.created v1/],
    ['a malformed event id', { eventId: 'nope' }, /eventId/],
    ['a missing correlation id', { correlationId: undefined }, /correlationId/],
    ['a payload that is not an object', { payload: [] }, /payload is not an object/],
    [
      'a quantity of zero',
      { payload: { ...(valid().payload as object), items: [{ sku: 'A', quantity: 0 }] } },
      /quantity/,
    ],
    [
      'a lower-case currency',
      { payload: { ...(valid().payload as object), currency: 'eur' } },
      /currency/,
    ],
  ])('rejects %s', (_what, change, message) => {
    expect(() => parseEvent(OrderCreatedV1, { ...valid(), ...change })).toThrow(InvalidEventError);
    expect(() => parseEvent(OrderCreatedV1, { ...valid(), ...change })).toThrow(message);
  });

  it('keeps payload fields it does not know, so adding an optional field keeps the version', () => {
    const body = valid();
    const parsed = parseEvent(OrderCreatedV1, {
      ...body,
      payload: { ...(body.payload as object), giftNote: 'hi' },
    });
    expect(parsed.payload).toMatchObject({ giftNote: 'hi' });
  });
});
