import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  consumedSubjects,
  DLQ_STREAM,
  EVENT_CATALOG,
  streamForSubject,
  SUBSCRIPTIONS,
} from '@lib/contracts';
import { durableName } from '@lib/messaging';
import {
  appPermissions,
  APP_USERS,
  consolePermissions,
  developmentPassword,
  natsPermissions,
  NATS_USERS,
  NSC_SCRIPT_PATH,
  passwordVariable,
  renderNscScript,
  renderServerConfig,
  SERVER_CONFIG_PATH,
} from './permissions';

describe('the generated NATS permissions', () => {
  it('are committed as generated: run `npm run nats:config` after changing the contracts', () => {
    expect(readFileSync(SERVER_CONFIG_PATH, 'utf8')).toBe(renderServerConfig());
    expect(readFileSync(NSC_SCRIPT_PATH, 'utf8')).toBe(renderNscScript());
  });

  it('give every producing or consuming app a user', () => {
    expect([...APP_USERS].sort()).toEqual(['inventory', 'order', 'payment', 'trading']);
  });

  it.each(EVENT_CATALOG.map((event) => [event.subject, streamForSubject(event.subject)]))(
    'let only the producer of %s publish it',
    (subject, stream) => {
      const publishers = APP_USERS.filter((user) =>
        appPermissions(user).publish.some((allowed) => matches(allowed, subject)),
      );
      expect(publishers).toEqual([stream.producer]);
    },
  );

  it.each(Object.entries(SUBSCRIPTIONS))(
    'let %s pull and ack only its own durables',
    (service, subjects) => {
      const allowed = appPermissions(service).publish;
      const own = subjects.map((subject) => durableName(service, subject));
      const pulled = allowed
        .filter((subject) => subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.'))
        .map((subject) => subject.split('.').at(-1));
      expect(pulled.sort()).toEqual([...own].sort());
      for (const subject of allowed.filter(
        (s) => s.includes('CONSUMER') || s.startsWith('$JS.ACK'),
      ))
        expect(own.some((durable) => subject.includes(`.${durable}`))).toBe(true);
      // Never a wildcard into another app's API calls.
      expect(
        allowed.filter((subject) => subject.startsWith('$JS.API') && subject.includes('>')),
      ).toEqual([]);
    },
  );

  it('let the console publish only events some app consumes (replays), and change only the DLQ', () => {
    const { publish } = consolePermissions();
    const events = publish.filter((subject) => !subject.startsWith('$JS'));
    expect([...events].sort()).toEqual([...consumedSubjects()].sort());
    // Never a wildcard into the JetStream API's tree, and no stream changed but the DLQ.
    expect(publish.filter((s) => s.startsWith('$JS.API') && s.includes('>'))).toEqual([]);
    expect(
      publish.filter((s) => /STREAM\.(CREATE|UPDATE|DELETE|PURGE|MSG\.DELETE)/.test(s)),
    ).toEqual([`$JS.API.STREAM.MSG.DELETE.${DLQ_STREAM}`, `$JS.API.STREAM.PURGE.${DLQ_STREAM}`]);
    expect(publish.some((s) => s.startsWith('$JS.ACK'))).toBe(false);
  });

  it.each(Object.entries(SUBSCRIPTIONS))(
    'refuse the console creating, pulling from or deleting the durables of %s',
    (service, subjects) => {
      const { publish, publishDeny = [] } = consolePermissions();
      for (const subject of subjects) {
        const stream = streamForSubject(subject).name;
        const durable = durableName(service, subject);
        for (const call of ['CREATE', 'MSG.NEXT', 'DELETE']) {
          const api = `$JS.API.CONSUMER.${call}.${stream}.${durable}`;
          const allowed = publish.some((pattern) => matches(pattern, api));
          const denied = publishDeny.some((pattern) => matches(pattern, api));
          // Refused by name where the console's wildcards would allow it; not allowed elsewhere.
          expect([api, allowed && !denied]).toEqual([api, false]);
        }
      }
    },
  );

  it.each(natsPermissions().map((permissions) => [permissions.user, permissions]))(
    'keep %s’s permissions small enough for an account user’s JWT in an 8 KB CONNECT line',
    (_user, { publish, publishDeny = [], subscribe }) => {
      // The claims are base64url in the JWT (4/3), beside the header, the signature and the rest.
      const claims = JSON.stringify({
        pub: { allow: publish, deny: publishDeny },
        sub: { allow: subscribe },
      });
      // 8 KB (max_control_line of infra/k8s/nats-values.yaml), with room to grow.
      expect(claims.length).toBeLessThan(4000);
    },
  );

  it('have development passwords in .env.example, and nowhere a real secret', () => {
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    for (const user of NATS_USERS)
      expect(example).toContain(`${passwordVariable(user)}=${developmentPassword(user)}\n`);
    expect(renderServerConfig()).not.toMatch(/password: (?!\$NATS_[A-Z]+_PASSWORD\n)/);
  });
});

/** NATS subject matching: `*` is one token, a trailing `>` one or more. */
function matches(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const actual = subject.split('.');
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === '>') return actual.length > i;
    if (wanted[i] !== '*' && wanted[i] !== actual[i]) return false;
  }
  return wanted.length === actual.length;
}
