import { InvalidRequestError } from '@lib/platform';

/** What express hands over for a query or a form: strings, or lists of them for repeated names. */
export type FormInput = Record<string, unknown>;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** One text field, trimmed; empty is absent. Anything but one short, printable text is a 400. */
export function textField(input: FormInput, name: string, max = 200): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidRequestError(`${name} must be given once`);
  const text = value.trim();
  if (text.length > max) throw new InvalidRequestError(`${name} is longer than ${max} characters`);
  if (CONTROL.test(text)) throw new InvalidRequestError(`${name} holds control characters`);
  return text === '' ? undefined : text;
}

/** A field that may repeat (`seq=3&seq=9`), as positive integers. */
export function positiveIntegers(input: FormInput, name: string, max: number): number[] {
  const value = input[name];
  const texts = value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (texts.length > max) throw new InvalidRequestError(`at most ${max} ${name} values at once`);
  return texts.map((text) => {
    const number = typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!(number >= 1)) throw new InvalidRequestError(`${name} must be positive integers`);
    return number;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidParam(value: string, what: string): string {
  if (!UUID.test(value)) throw new InvalidRequestError(`${what} must be a UUID`);
  return value.toLowerCase();
}
