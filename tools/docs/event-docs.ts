import { dump } from 'js-yaml';
import { reachableSchemas, ruleSchemas } from './rule-schemas';
import { EVENT_CATALOG, EventDefinition, streamForSubject, SUBSCRIPTIONS } from '@lib/contracts';

type Schema = Record<string, unknown>;

/** The app that publishes an event: the one named by its first word (`order.created` → order). */
export function producerOf(definition: EventDefinition): string {
  return definition.eventName.split('.')[0]!;
}

export function consumersOf(definition: EventDefinition): string[] {
  return Object.entries(SUBSCRIPTIONS)
    .filter(([, subjects]) => subjects.includes(definition.subject))
    .map(([app]) => app);
}

const messageId = (d: EventDefinition) => d.payloadClass.name.replace(/Payload$/, '');
const channelId = (d: EventDefinition) => messageId(d).replace(/^./, (c) => c.toLowerCase());

/** Only the payload classes and what they nest: other classes may be loaded too. */
function payloadSchemas(): Record<string, Schema> {
  return reachableSchemas(
    ruleSchemas(),
    EVENT_CATALOG.map((d) => d.payloadClass.name),
  );
}

const ENVELOPE: Schema = {
  type: 'object',
  required: [
    'eventId',
    'eventName',
    'eventVersion',
    'occurredAt',
    'correlationId',
    'causationId',
    'payload',
  ],
  properties: {
    eventId: { type: 'string', format: 'uuid', description: 'Also the Nats-Msg-Id header' },
    eventName: { type: 'string' },
    eventVersion: { type: 'integer', minimum: 1 },
    occurredAt: { type: 'string', format: 'date-time' },
    correlationId: { type: 'string', description: 'The conversation; for a saga, the order id' },
    causationId: {
      type: ['string', 'null'],
      description: 'eventId of the event that caused this one',
    },
    sagaId: { type: 'string', format: 'uuid' },
    tenantId: { type: 'string' },
  },
};

/** The AsyncAPI 3 document of every event in `libs/contracts`. */
export function asyncApi(): string {
  const schemas = payloadSchemas();
  const channels: Schema = {};
  const operations: Schema = {};
  const messages: Schema = {};
  for (const d of EVENT_CATALOG) {
    const id = messageId(d);
    const ref = { $ref: `#/components/messages/${id}` };
    channels[channelId(d)] = {
      address: d.subject,
      description: `Stream ${streamForSubject(d.subject).name}`,
      messages: { [id]: ref },
    };
    const channel = { $ref: `#/channels/${channelId(d)}` };
    const message = { $ref: `#/channels/${channelId(d)}/messages/${id}` };
    operations[`${producerOf(d)}Sends${id}`] = { action: 'send', channel, messages: [message] };
    for (const app of consumersOf(d)) {
      operations[`${app}Receives${id}`] = { action: 'receive', channel, messages: [message] };
    }
    messages[id] = {
      name: d.eventName,
      title: `${d.eventName} v${d.eventVersion}`,
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'Nats-Msg-Id': { type: 'string' },
          'Correlation-Id': { type: 'string' },
          'Causation-Id': { type: 'string' },
        },
      },
      payload: {
        allOf: [
          { $ref: '#/components/schemas/EventEnvelope' },
          {
            type: 'object',
            properties: {
              eventName: { const: d.eventName },
              eventVersion: { const: d.eventVersion },
              payload: { $ref: `#/components/schemas/${d.payloadClass.name}` },
            },
          },
        ],
      },
    };
  }
  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'Saga platform events',
      version: '1.0.0',
      description: 'Generated from libs/contracts by `npm run docs:generate`; do not edit.',
    },
    defaultContentType: 'application/json',
    servers: { local: { host: '127.0.0.1:4222', protocol: 'nats' } },
    channels,
    operations,
    components: { messages, schemas: { EventEnvelope: ENVELOPE, ...schemas } },
  };
  return `# Generated from libs/contracts by \`npm run docs:generate\`; do not edit.\n${dump(document, { lineWidth: 120, noRefs: true })}`;
}

/** The Markdown event catalogue: per stream, each event with producer, consumers and payload. */
export function catalogue(): string {
  const schemas = payloadSchemas();
  const lines = [
    '# Event catalogue',
    '',
    'Generated from `libs/contracts` by `npm run docs:generate`; do not edit. The machine-readable',
    'version is [asyncapi.yaml](asyncapi.yaml). Every event is a JSON envelope (see',
    '[architecture](../architecture.md#events)); the tables describe its `payload`.',
  ];
  const streams = [...new Set(EVENT_CATALOG.map((d) => streamForSubject(d.subject).name))];
  for (const stream of streams) {
    lines.push('', `## ${stream}`);
    for (const d of EVENT_CATALOG.filter((e) => streamForSubject(e.subject).name === stream)) {
      const consumers = consumersOf(d);
      lines.push(
        '',
        `### \`${d.subject}\``,
        '',
        `Published by \`${producerOf(d)}\`; consumed by ${consumers.length ? consumers.map((c) => `\`${c}\``).join(', ') : 'no app yet'}.`,
        '',
        '| field | type | required | rules |',
        '| --- | --- | --- | --- |',
        ...fieldRows(schemas, d.payloadClass.name, ''),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function fieldRows(schemas: Record<string, Schema>, name: string, prefix: string): string[] {
  const schema = schemas[name] as { properties: Record<string, Schema>; required?: string[] };
  return Object.entries(schema.properties).flatMap(([field, property]) => {
    const items = property.items as Schema | undefined;
    const nested = (property.$ref ?? items?.$ref) as string | undefined;
    const type = nested
      ? `${items ? 'array of ' : ''}${nested.split('/').pop()}`
      : describeType(property);
    const row = `| \`${prefix}${field}\` | ${type} | ${schema.required?.includes(field) ? 'yes' : 'no'} | ${rules(property)} |`;
    return nested
      ? [
          row,
          ...fieldRows(schemas, nested.split('/').pop()!, `${prefix}${field}${items ? '[]' : ''}.`),
        ]
      : [row];
  });
}

interface PropertyRules {
  type?: string;
  format?: string;
  oneOf?: unknown[];
  pattern?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

function describeType(property: PropertyRules): string {
  if (property.oneOf) return 'string (date-time)';
  return `${property.type ?? 'any'}${property.format ? ` (${property.format})` : ''}`;
}

function rules(p: PropertyRules): string {
  const parts: string[] = [];
  if (p.pattern) parts.push(`pattern \`${p.pattern}\``);
  if (p.enum) parts.push(`one of ${p.enum.map((v) => `\`${v}\``).join(', ')}`);
  if (p.minimum !== undefined) parts.push(`≥ ${p.minimum}`);
  if (p.maximum !== undefined && p.maximum !== Number.MAX_SAFE_INTEGER)
    parts.push(`≤ ${p.maximum}`);
  if (p.maxLength !== undefined) parts.push(`at most ${p.maxLength} characters`);
  if (p.minItems !== undefined) parts.push(`at least ${p.minItems}`);
  if (p.maxItems !== undefined) parts.push(`at most ${p.maxItems}`);
  return parts.join(', ');
}

export const GENERATED = {
  'docs/events/asyncapi.yaml': asyncApi,
  'docs/events/catalogue.md': catalogue,
};
