import { invalidParam } from './stripe.errors';

/** A decoded Stripe request: `metadata[orderId]=x` becomes `{ metadata: { orderId: 'x' } }`. */
export type FormValue = string | FormParams;
export interface FormParams {
  [key: string]: FormValue;
}

export function parseForm(encoded: string): FormParams {
  const params: FormParams = {};
  for (const [key, value] of new URLSearchParams(encoded)) {
    const [head = key, ...rest] = key.split('[');
    const path = [head, ...rest.map((part) => part.replace(/\]$/, ''))];
    let node = params;
    path.slice(0, -1).forEach((segment) => {
      const child = node[segment];
      node = typeof child === 'object' ? child : (node[segment] = {});
    });
    node[path[path.length - 1]!] = value;
  }
  return params;
}

/**
 * Typed reads of one endpoint's parameters, with Stripe's error codes. A parameter the endpoint
 * does not know is refused, as Stripe does: it catches a client sending the wrong field.
 */
export class ParamReader {
  constructor(
    private readonly params: FormParams,
    allowed: readonly string[],
    private readonly prefix = '',
  ) {
    const unknown = Object.keys(params).find((key) => !allowed.includes(key) && key !== 'expand');
    if (unknown !== undefined) {
      const param = this.qualified(unknown);
      throw invalidParam('parameter_unknown', `Received unknown parameter: ${param}`, param);
    }
  }

  /** For endpoints that take no parameters (only `expand`, which is ignored). */
  static refuseAny(params: FormParams): void {
    new ParamReader(params, []);
  }

  string(name: string): string | undefined {
    const value = this.params[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw this.invalid('string', name, '(a hash)');
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (!value) throw this.missing(name);
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined || (values as readonly string[]).includes(value))
      return value as T | undefined;
    throw this.invalid('string', name, `${value}, must be one of ${values.join(', ')}`);
  }

  positiveInteger(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw this.invalid('integer', name, value);
    const amount = Number(value);
    if (amount < 1) {
      const param = this.qualified(name);
      throw invalidParam('amount_too_small', `${param} must be at least 1`, param);
    }
    return amount;
  }

  requiredPositiveInteger(name: string): number {
    const value = this.positiveInteger(name);
    if (value === undefined) throw this.missing(name);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw this.invalid('boolean', name, value);
    return value === 'true';
  }

  /** A nested hash such as `payment_method_data[card]`, read with its own allowed keys. */
  hash(name: string, allowed: readonly string[]): ParamReader | undefined {
    const value = this.params[name];
    if (value === undefined) return undefined;
    if (typeof value === 'string') throw this.invalid('hash', name, value);
    return new ParamReader(value, allowed, this.qualified(name));
  }

  /** `metadata`: any keys, string values. */
  metadata(): Record<string, string> {
    const value = this.params.metadata;
    if (value === undefined || value === '') return {};
    if (typeof value === 'string' || Object.values(value).some((v) => typeof v !== 'string'))
      throw this.invalid('hash', 'metadata', 'nested values are not allowed');
    return { ...(value as Record<string, string>) };
  }

  private qualified(name: string): string {
    return this.prefix ? `${this.prefix}[${name}]` : name;
  }

  private missing(name: string) {
    const param = this.qualified(name);
    return invalidParam('parameter_missing', `Missing required param: ${param}.`, param);
  }

  private invalid(kind: string, name: string, value: string) {
    const param = this.qualified(name);
    return invalidParam(
      `parameter_invalid_${kind}`,
      `Invalid ${kind} for ${param}: ${value}`,
      param,
    );
  }
}
