import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Turns the environment into a typed, validated config object. The first bad variable
 * stops the app with one line that names it, e.g. `Invalid configuration: NATS_URL must be a URL address`.
 */
export function loadConfig<T extends object>(
  schema: new () => T,
  env: Record<string, string | undefined> = process.env,
): T {
  const config = plainToInstance(schema, env, { enableImplicitConversion: true });
  const errors = validateSync(config, { stopAtFirstError: true });
  const first = errors[0];
  if (first) throw new ConfigError(`Invalid configuration: ${describe(first)}`);
  return config;
}

function describe(error: ValidationError): string {
  const constraint = Object.values(error.constraints ?? {})[0];
  return constraint ?? `${error.property} is invalid`;
}
