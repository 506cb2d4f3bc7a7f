import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
} from '@nats-io/jwt';
import { natsPermissions, NatsUserPermissions } from '../../infra/nats/permissions';

/** What a nats-server in operator mode needs, and each user's credentials file. */
export interface NatsAccounts {
  /** The server configuration: the operator, the system account and a memory resolver. */
  config: string;
  /** The `.creds` file of each user (an app's name, or `operator`): what NATS_CREDS points at. */
  credsFiles: Record<string, string>;
}

/**
 * NATS accounts as production runs them (docs/security.md): an operator, a system account, and
 * one account `SAGA` with JetStream whose users are the apps, the operator and the console, each with the
 * permissions of the generated configuration (the same lists `nsc-users.sh` gives them), signed
 * as JWTs with fresh nkeys and written as `.creds` files into `dir`. The server learns the
 * accounts from a memory resolver preloaded with their JWTs.
 */
/** The CONNECT line an account user's JWT must fit in (nats-server's default is 4 KB). */
export const MAX_CONTROL_LINE = 8192;

export async function natsAccounts(
  dir: string,
  users: readonly NatsUserPermissions[] = natsPermissions(),
): Promise<NatsAccounts> {
  const operator = createOperator();
  const system = createAccount();
  const saga = createAccount();
  const operatorJwt = await encodeOperator('saga', operator, {
    system_account: system.getPublicKey(),
  });
  const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const sagaJwt = await encodeAccount(
    'SAGA',
    saga,
    // No limits (what `nsc add account` sets) and unlimited JetStream (`nsc edit account SAGA
    // --js-disk-storage -1 ...`): a limit left out of the claim is 0 for the server.
    {
      limits: {
        ...{ conn: -1, subs: -1, data: -1, payload: -1, leaf: -1, imports: -1, exports: -1 },
        ...{ wildcards: true, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
      },
    },
    { signer: operator },
  );
  const credsFiles: Record<string, string> = {};
  for (const { user, publish, publishDeny, subscribe } of users) {
    const key = createUser();
    const jwt = await encodeUser(user, key, saga, {
      pub: { allow: publish, ...(publishDeny && { deny: publishDeny }) },
      sub: { allow: subscribe },
    });
    const file = join(dir, `${user}.creds`);
    writeFileSync(file, fmtCreds(jwt, key), { mode: 0o600 });
    credsFiles[user] = file;
  }
  // As infra/k8s/nats-values.yaml: a user's JWT travels in its CONNECT line.
  const config = `operator: ${operatorJwt}
max_control_line: ${MAX_CONTROL_LINE}
system_account: ${system.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${system.getPublicKey()}: ${systemJwt}
  ${saga.getPublicKey()}: ${sagaJwt}
}
jetstream: enabled
`;
  return { config, credsFiles };
}
