import { formatDuration } from '@lib/operations';
import { html, Html } from './html';

/** A time as operators compare them (UTC, to the millisecond), machine-readable too. */
export function time(iso: string | null | undefined): Html {
  if (!iso) return html`—`;
  const text = iso.replace('T', ' ').replace('Z', ' UTC');
  return html`<time datetime="${iso}">${text}</time>`;
}

/** How long ago, e.g. `4 min 5 s`. */
export function age(iso: string, now = Date.now()): string {
  return formatDuration(now - Date.parse(iso));
}

/** Integer minor units, e.g. 1999 EUR → `19.99 EUR`. */
export function money(
  minor: number | null | undefined,
  currency: string | null | undefined,
): string {
  if (minor === null || minor === undefined) return '—';
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency ?? ''}`.trim();
}

/** A saga state as a badge; the text carries the meaning, the colour helps. */
export function stateBadge(state: string): Html {
  return html`<span class="state state-${state.toLowerCase().replace(/_/g, '-')}">${state}</span>`;
}

/** A long id shortened for tables; the whole id stays in the link and its title. */
export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

/** Keys whose values a page never shows: client secrets, tokens, passwords, card data. */
const SECRET_KEY = /secret|token|password|passwd|authorization|cookie|card|cvc/i;

/**
 * A dead letter's body or headers as a page may show them: every value under a secret-sounding
 * key replaced, however deep (events carry none, but a dead letter is whatever was sent).
 */
export function redacted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redacted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      SECRET_KEY.test(key) ? '[redacted]' : redacted(inner),
    ]),
  );
}
