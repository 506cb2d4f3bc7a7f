import 'reflect-metadata';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { natsConnectOptions } from '@lib/messaging';
import { SAGA_ACTIONS, SagaAction } from '@lib/operator-api';
import {
  DeadLetterFilter,
  DeadLetterNotFoundError,
  OperationsAudit,
  StreamRange,
} from '@lib/operations';
import { BaseConfig, ConfigError, loadConfig, natsSettingsOf, ROLES } from '@lib/platform';
import { cliActor } from './cli-audit';
import { CliError, EXIT, parseDuration, parsePositiveInt, UsageError } from './cli-io';
import { dlqList, dlqPurge, dlqReplay, dlqShow } from './dlq.command';
import { replayRepublish, replayToConsumer } from './replay.command';
import { orderApiOf, sagaAct, sagasBulk } from './saga-actions.command';
import { sagaShow, sagasStuck } from './saga.command';
import { streamsCommand } from './streams.command';
import { tokenCommand } from './token.command';

const USAGE = `usage: npm run cli -- <command> [--json]

  streams                                   streams, message counts, consumers' pending and redelivered
  replay <stream> (--from-seq N | --since 1h) [--subject S] (--to-consumer NAME | --republish) [--reason TEXT]
  dlq list [--consumer C] [--subject S] | dlq show <seq> | dlq purge [--reason TEXT]
  dlq replay <seq>... | dlq replay --all [--consumer C] [--subject S]   [--reason TEXT]
      puts dead letters back on their original subjects (fresh message ids: the consumers'
      inboxes keep a replayed event from applying twice) and removes them from the DLQ
  saga show <orderId|sagaId>                state, step log and every event of its conversation
  sagas stuck [--older-than 5m]             unfinished sagas that have not moved for that long
  saga retry|cancel|resolve <orderId|sagaId> [--reason TEXT]
      retry: send the awaited step's command again; cancel: force compensation; resolve: close a
      FAILED saga (--reason required: what was done). Through the order app's operator API.
  sagas bulk retry|cancel|resolve --state STATE [--older-than 1h] [--tenant T]
      [--saga-reason R] [--limit 100] [--dry-run] [--reason TEXT]
      the same for the oldest sagas of a state (at most --limit, 500 a call), of a tenant, or
      cancelled or failed for reason R (e.g. payment-timeout); --dry-run lists them
  token --sub SUB --roles ROLE[,ROLE] [--tenant T] [--ttl 1h]
      prints a development bearer token: HS256 with AUTH_JWT_SECRET (default: the development
      secret), AUTH_ISSUER and AUTH_AUDIENCE; refused with NODE_ENV=production.
      Roles: ${ROLES.join(', ')}. In a shell:
      curl -H "Authorization: Bearer $(npm run -s cli -- token --sub alice --roles customer)" ...

NATS_URL and DATABASE_URL are read from the environment (defaults: local NATS and Postgres),
and the operator's NATS user from NATS_USER/NATS_PASSWORD, NATS_NKEY_SEED or NATS_CREDS
(TLS: NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY).
Replays and purges leave an audit record (actor: SAGA_CLI_ACTOR, else the OS user; reason:
--reason) in the audit_log of the app that owns the stream or consumer.
Saga actions call the order app (--order-url, else ORDER_API_URL, else http://127.0.0.1:ORDER_PORT
or 3001) with an operator's bearer token (SAGA_CLI_TOKEN, or --token); the app audits them as the
token's sub, with --reason as the note.
Exit codes: 0 done, 1 failed, 2 bad usage, 3 not found.
`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      republish: { type: 'boolean', default: false },
      'from-seq': { type: 'string' },
      since: { type: 'string' },
      subject: { type: 'string' },
      'to-consumer': { type: 'string' },
      consumer: { type: 'string' },
      'saga-reason': { type: 'string' },
      'older-than': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      state: { type: 'string' },
      limit: { type: 'string' },
      token: { type: 'string' },
      'order-url': { type: 'string' },
      reason: { type: 'string' },
      sub: { type: 'string' },
      roles: { type: 'string' },
      tenant: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    if (!values.help) throw new UsageError('a command is needed');
    return;
  }
  const json = values.json;
  // Needs neither NATS nor Postgres, and must say why it refuses before any config is read.
  if (command === 'token') return tokenCommand(values, json);
  // The order app's operator API: neither NATS nor Postgres.
  if (command === 'saga' && isAction(sub)) {
    if (!rest[0]) throw new UsageError(`saga ${sub} <orderId|sagaId>`);
    return sagaAct(orderApiOf(values), sub, rest[0], values.reason, json);
  }
  if (command === 'sagas' && sub === 'bulk') {
    const [action] = rest;
    if (!isAction(action) || !values.state)
      throw new UsageError('sagas bulk retry|cancel|resolve --state STATE');
    const olderThan = values['older-than'];
    return sagasBulk(
      orderApiOf(values),
      action,
      {
        state: values.state,
        ...(olderThan && { olderThanMs: parseDuration(olderThan, '--older-than') }),
        ...(values.tenant && { tenantId: values.tenant }),
        ...(values['saga-reason'] && { reason: values['saga-reason'] }),
      },
      {
        dryRun: values['dry-run'],
        ...(values.limit && { limit: parsePositiveInt(values.limit, '--limit') }),
        note: values.reason,
      },
      json,
    );
  }
  const config = loadConfig(BaseConfig);
  const needsDb = command === 'saga' || command === 'sagas';
  const nc = await connect({ ...natsConnectOptions(natsSettingsOf(config)), timeout: 5000 });
  const db = needsDb ? new Client({ connectionString: config.DATABASE_URL }) : undefined;
  const audit = new OperationsAudit(config.DATABASE_URL);
  const by = cliActor(values.reason);
  const letters: DeadLetterFilter = {
    ...(values.consumer && { consumer: values.consumer }),
    ...(values.subject && { subject: values.subject }),
  };
  try {
    await db?.connect();
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    switch (command) {
      case 'streams':
        return await streamsCommand(jsm, json);
      case 'replay': {
        if (!sub) throw new UsageError('replay needs a stream name');
        const range: StreamRange = {
          stream: sub,
          ...(values.subject ? { subject: values.subject } : {}),
        };
        if (values['from-seq'] !== undefined)
          range.fromSeq = parsePositiveInt(values['from-seq'], '--from-seq');
        else if (values.since !== undefined) range.sinceMs = parseDuration(values.since, '--since');
        else throw new UsageError('replay needs --from-seq N or --since DURATION');
        if (values['to-consumer'] && values.republish)
          throw new UsageError('choose one of --to-consumer and --republish');
        if (values['to-consumer'])
          return await replayToConsumer(jsm, range, values['to-consumer'], json, audit, by);
        if (values.republish) return await replayRepublish(js, jsm, range, json, audit, by);
        throw new UsageError('replay needs --to-consumer NAME or --republish');
      }
      case 'dlq':
        switch (sub) {
          case 'list':
            return await dlqList(js, letters, json);
          case 'show':
            return await dlqShow(jsm, parsePositiveInt(rest[0] ?? '', 'the DLQ sequence'));
          case 'replay':
            if (values.all) return await dlqReplay(js, jsm, letters, json, audit, by);
            if (rest.length === 0) throw new UsageError('dlq replay needs sequences or --all');
            return await dlqReplay(
              js,
              jsm,
              rest.map((seq) => parsePositiveInt(seq, 'the DLQ sequence')),
              json,
              audit,
              by,
            );
          case 'purge':
            return await dlqPurge(js, jsm, json, audit, by);
          case undefined:
          default:
            throw new UsageError('dlq takes list, show, replay or purge');
        }
      case 'saga':
        if (sub !== 'show' || !rest[0])
          throw new UsageError('saga show|retry|cancel|resolve <orderId|sagaId>');
        return await sagaShow(db!, js, rest[0], json);
      case 'sagas':
        if (sub !== 'stuck') throw new UsageError('sagas stuck [--older-than 5m] | sagas bulk ...');
        return await sagasStuck(
          db!,
          parseDuration(values['older-than'] ?? '5m', '--older-than'),
          json,
        );
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    await audit.close();
    await db?.end();
    await nc.close();
  }
}

function isAction(word: string | undefined): word is SagaAction {
  return (SAGA_ACTIONS as readonly (string | undefined)[]).includes(word);
}

/** Bad flags and bad configuration are usage errors; a CliError knows its own code. */
function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof DeadLetterNotFoundError) return EXIT.notFound;
  if (error instanceof ConfigError) return EXIT.usage;
  const parseArgsError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  return parseArgsError ? EXIT.usage : EXIT.failed;
}

main(process.argv.slice(2)).then(
  () => process.exit(EXIT.ok),
  (error: unknown) => {
    process.stderr.write(`saga-cli: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(exitCodeOf(error));
  },
);
