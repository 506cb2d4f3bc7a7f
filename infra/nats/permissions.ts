import { join } from 'node:path';
import {
  CONSOLE_SERVICE,
  consumedSubjects,
  conversationStreamsOf,
  DLQ_STREAM,
  inboxPrefixOf,
  STREAMS,
  streamAccessOf,
  streamForSubject,
  SUBSCRIPTIONS,
} from '@lib/contracts';
import { durableName } from '@lib/messaging';

/** The committed output of `npm run nats:config`, which dev and the tests start nats-server with. */
export const SERVER_CONFIG_PATH = join(__dirname, 'nats-server.conf');

/** The same users as NATS account users for production (`nsc`), with their credentials files. */
export const NSC_SCRIPT_PATH = join(__dirname, 'nsc-users.sh');

/** One NATS user: what it may publish (JetStream API calls are publishes) and subscribe to. */
export interface NatsUserPermissions {
  user: string;
  publish: string[];
  /** Exceptions to `publish`: subjects its wildcards would allow, refused all the same. */
  publishDeny?: string[];
  subscribe: string[];
}

/** The operator tooling (project CLI, `npm run nats:setup`, replays): one user of its own. */
export const OPERATOR_USER = 'operator';

/** The operators' web console (apps/console): reads streams and the DLQ, replays dead letters. */
export const CONSOLE_USER = CONSOLE_SERVICE;

/** Every app that publishes or consumes, in a stable order. */
export const APP_USERS: readonly string[] = [
  ...new Set([
    ...STREAMS.flatMap((stream) => (stream.producer ? [stream.producer] : [])),
    ...Object.keys(SUBSCRIPTIONS),
  ]),
];

export const NATS_USERS: readonly string[] = [...APP_USERS, OPERATOR_USER, CONSOLE_USER];

/** The variable the server reads a user's password from: `NATS_ORDER_PASSWORD`, ... */
export function passwordVariable(user: string): string {
  return `NATS_${user.toUpperCase()}_PASSWORD`;
}

/** Development and test passwords, also in .env.example: no secrets (production uses accounts). */
export function developmentPassword(user: string): string {
  return `${user}-dev-nats-password`;
}

const API = '$JS.API';
const DEAD_LETTER_SUBJECTS = STREAMS.find((stream) => stream.name === DLQ_STREAM)?.subjects ?? [];
const MAX_DELIVERIES_ADVISORIES = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.*.*';

/**
 * An app publishes its own streams' subjects and dead letters, and calls only the JetStream API
 * its boot (streams, its durables), its consumers (pull, ack), its dead letters (fetching the
 * original after an advisory, publishing to the DLQ) and its health check need.
 */
export function appPermissions(service: string): NatsUserPermissions {
  const { created, updated } = streamAccessOf(service);
  const produced = STREAMS.filter((stream) => stream.producer === service);
  const consumers = (SUBSCRIPTIONS[service] ?? []).map((subject) => ({
    subject,
    stream: streamForSubject(subject).name,
    durable: durableName(service, subject),
  }));
  const consumedStreams = [...new Set(consumers.map((c) => c.stream))];
  const publish = [
    ...produced.flatMap((stream) => stream.subjects),
    ...(consumers.length > 0 ? DEAD_LETTER_SUBJECTS : []),
    // Account info: the client's JetStream check at connect, and the readiness probe.
    `${API}.INFO`,
    ...created.flatMap((stream) => [
      `${API}.STREAM.INFO.${stream.name}`,
      `${API}.STREAM.CREATE.${stream.name}`,
    ]),
    ...updated.map((stream) => `${API}.STREAM.UPDATE.${stream.name}`),
    ...consumers.flatMap(({ subject, stream, durable }) => [
      `${API}.CONSUMER.INFO.${stream}.${durable}`,
      // Create and update are one call with the filter subject on 2.9+.
      `${API}.CONSUMER.CREATE.${stream}.${durable}.${subject}`,
      `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
      `$JS.ACK.${stream}.${durable}.>`,
    ]),
    // The original message of a max-deliveries advisory.
    ...consumedStreams.map((stream) => `${API}.STREAM.MSG.GET.${stream}`),
  ];
  const subscribe = [
    // Its own replies only: API answers, publish acks, pulled messages.
    `${inboxPrefixOf(service)}.>`,
    ...(consumers.length > 0 ? [MAX_DELIVERIES_ADVISORIES] : []),
  ];
  return { user: service, publish, subscribe };
}

/**
 * The operator tooling reads and replays every stream: it republishes events on their own
 * subjects, creates replay durables, reads, replays and purges dead letters, and watches events
 * as they are published (`nats sub 'order.>'`, the benchmarks).
 */
export function operatorPermissions(): NatsUserPermissions {
  const subjects = STREAMS.flatMap((stream) => stream.subjects);
  return {
    user: OPERATOR_USER,
    publish: [...subjects, `${API}.>`, '$JS.ACK.>'],
    subscribe: ['_INBOX.>', '$JS.EVENT.ADVISORY.>', ...subjects],
  };
}

/**
 * The console reads what its pages show and changes only the DLQ: stream and consumer counts; the
 * saga's conversation and the dead letters through consumers of its own (ordered consumers, named
 * by the client, so `*`); the DLQ's messages one by one, deleted once replayed, and purged. It
 * publishes only subjects some app consumes (a dead letter goes back where it came from). The apps'
 * durables are refused by name, every consumer call on them (`*`: create, info, delete, pause...)
 * and pulls: pulling from one would take its app's messages, redefining or deleting one would
 * change what its app reads. Wildcards keep the list short: an account user's JWT travels in the
 * CONNECT line, which nats-server caps at 4 KB unless `max_control_line` says otherwise (8 KB in
 * infra/k8s/nats-values.yaml).
 */
export function consolePermissions(): NatsUserPermissions {
  const read = [...conversationStreamsOf('order').map((stream) => stream.name), DLQ_STREAM];
  const appDurables = Object.entries(SUBSCRIPTIONS).flatMap(([service, subjects]) =>
    subjects.map((subject) => ({
      stream: streamForSubject(subject).name,
      durable: durableName(service, subject),
    })),
  );
  return {
    user: CONSOLE_USER,
    publish: [
      ...consumedSubjects(),
      `${API}.INFO`,
      `${API}.STREAM.LIST`,
      `${API}.STREAM.INFO.*`,
      `${API}.CONSUMER.LIST.*`,
      ...read.flatMap((stream) => [
        `${API}.CONSUMER.*.${stream}.*`,
        `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
      ]),
      `${API}.STREAM.MSG.GET.${DLQ_STREAM}`,
      `${API}.STREAM.MSG.DELETE.${DLQ_STREAM}`,
      `${API}.STREAM.PURGE.${DLQ_STREAM}`,
    ],
    publishDeny: appDurables
      .filter(({ stream }) => read.includes(stream))
      .flatMap(({ stream, durable }) => [
        `${API}.CONSUMER.*.${stream}.${durable}`,
        `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
      ]),
    subscribe: [`${inboxPrefixOf(CONSOLE_SERVICE)}.>`],
  };
}

export function natsPermissions(): NatsUserPermissions[] {
  return [...APP_USERS.map(appPermissions), operatorPermissions(), consolePermissions()];
}

/** The nats-server configuration (2.9+): JetStream on, one user per app and the operator. */
export function renderServerConfig(
  users: readonly NatsUserPermissions[] = natsPermissions(),
): string {
  const list = (subjects: readonly string[]) =>
    `[\n${subjects.map((subject) => `            "${subject}"`).join('\n')}\n          ]`;
  const entries = users.map(
    ({ user, publish, publishDeny, subscribe }) => `    {
      user: ${user}
      password: $${passwordVariable(user)}
      permissions: {
        publish: {
          allow: ${list(publish)}${publishDeny ? `\n          deny: ${list(publishDeny)}` : ''}
        }
        subscribe: {
          allow: ${list(subscribe)}
        }
      }
    }`,
  );
  return `# Generated by \`npm run nats:config\` from libs/contracts (streams, producers, SUBSCRIPTIONS).
# Do not edit: infra/nats/permissions.spec.ts fails when this file is stale.
#
# Each app may publish only its own subjects and dead letters, and call only the JetStream API its
# streams, durable consumers and dead letters need; the operator user (CLI, nats:setup, replays)
# reads and replays everything; the console reads streams and dead letters and replays these.
# Passwords come from the server's environment (${passwordVariable('order')}, ...; development
# values in .env.example). Listen address and store: nats-server -a/-p/-sd flags.
# Production: NATS accounts with credentials files, see docs/security.md.

jetstream: enabled

authorization {
  users: [
${entries.join('\n')}
  ]
}
`;
}

/**
 * A shell script that adds every user to an `nsc` account with the same permissions and writes
 * its credentials file: production runs NATS accounts (JWTs) instead of a password list.
 */
export function renderNscScript(users: readonly NatsUserPermissions[] = natsPermissions()): string {
  const commands = users.map(
    ({
      user,
      publish,
      publishDeny,
      subscribe,
    }) => `nsc add user --account "$ACCOUNT" --name "${user}$SUFFIX" \\
  --allow-pub '${publish.join(',')}' \\${publishDeny ? `\n  --deny-pub '${publishDeny.join(',')}' \\` : ''}
  --allow-sub '${subscribe.join(',')}'
nsc generate creds --account "$ACCOUNT" --name "${user}$SUFFIX" --output-file "$OUT/${user}$SUFFIX.creds"`,
  );
  return `#!/bin/sh
# Generated by \`npm run nats:config\` from libs/contracts, with the permissions of nats-server.conf.
# Do not edit: infra/nats/permissions.spec.ts fails when this file is stale.
#
# Production: adds one user per app, the operator's and the console's to the nsc account
# $NATS_ACCOUNT (default SAGA, JetStream enabled) and writes their credentials files to
# $NATS_CREDS_DIR (default ./creds), one Secret per app (NATS_CREDS). NATS_USER_SUFFIX (e.g.
# -2026-12) issues new users for a rotation; see docs/security.md.
set -eu
ACCOUNT="\${NATS_ACCOUNT:-SAGA}"
OUT="\${NATS_CREDS_DIR:-./creds}"
SUFFIX="\${NATS_USER_SUFFIX:-}"
mkdir -p "$OUT"

${commands.join('\n\n')}
`;
}
