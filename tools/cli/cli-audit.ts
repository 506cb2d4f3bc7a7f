import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { STREAMS } from '@lib/contracts';
import { appOfStream, OperationsActor } from '@lib/operations';
import { UsageError } from './cli-io';

/**
 * Who a CLI run acts as in the audit trail (docs/security.md): `SAGA_CLI_ACTOR`, else the OS user;
 * the reason is the operator's `--reason`; every record of one run carries the same request id.
 */
export function cliActor(
  reason: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): OperationsActor {
  return { actor: env.SAGA_CLI_ACTOR || osUser(), requestId: `cli-${randomUUID()}`, reason };
}

/** Like `appOfStream`, for a command that may only act on an app's stream. */
export function owningAppOfStream(stream: string): string {
  const app = appOfStream(stream);
  if (!app)
    throw new UsageError(
      `stream ${stream} belongs to no app (${STREAMS.filter((s) => appOfStream(s.name))
        .map((s) => s.name)
        .join(', ')}); dead letters are replayed with dlq replay`,
    );
  return app;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
