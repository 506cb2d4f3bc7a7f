import {
  BulkSagaActionResult,
  PaymentView,
  ReservationView,
  SagaAction,
  SagaActionResult,
  SagaCounts,
  SagaDetail,
  SagaFilter,
  SagaSummary,
} from '@lib/operator-api';
import { formatDuration } from '@lib/operations';
import { age, money, shortId, stateBadge, time } from '../pages/format';
import { html, Html } from '../pages/html';
import { csrfField, facts, notice, PageContext, table } from '../pages/layout';
import { TimelineRow } from './saga-timeline';

/** The list's filters as the page's form and links carry them. */
export interface ListFilters {
  state?: string;
  tenant?: string;
  reason?: string;
  customer?: string;
  /** As typed: `5m`, `1h`. */
  olderThan?: string;
  stuck?: boolean;
}

export function filterQuery(filters: ListFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...filters, ...extra })) {
    if (value === undefined || value === false || value === '') continue;
    params.set(name, value === true ? '1' : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** What each action does, in the words of its button and its confirmation. */
export const ACTION_WORDS: Record<SagaAction, { button: string; verb: string; explains: string }> =
  {
    retry: {
      button: 'Retry step…',
      verb: 'Retry',
      explains:
        'Sends the command of the step the saga waits on again (a new event id, the same causation) and gives the step a fresh deadline: for a participant that lost it or was fixed. Participants answer a repeated command with what they decided the first time.',
    },
    cancel: {
      button: 'Force cancel…',
      verb: 'Cancel',
      explains:
        'Runs the compensations from the current state, as a customer’s cancel would: held stock is released and the order cancelled.',
    },
    resolve: {
      button: 'Resolve…',
      verb: 'Resolve',
      explains:
        'Closes the FAILED saga as RESOLVED, after a person has undone by hand what compensation could not. Say what was done: the note is kept in the audit trail.',
    },
  };

export function sagaListContent(view: {
  filters: ListFilters;
  canSeeAllTenants: boolean;
  stuckPreset: string;
  counts: SagaCounts;
  sagas: SagaSummary[];
  nextCursor: string | null;
  query?: string;
}): Html {
  const { filters, counts } = view;
  const states = Object.keys(counts.states);
  const searching = view.query !== undefined;
  return html` <form class="filters" method="get" action="/sagas" role="search">
      <div>
        <label for="q">Find by any id</label>
        <input
          type="search"
          id="q"
          name="q"
          value="${view.query ?? ''}"
          placeholder="saga, order, customer or PaymentIntent id"
        />
      </div>
      <div><button type="submit">Find</button></div>
    </form>
    <h2 id="counts">Sagas per state</h2>
    <ul class="counts" aria-labelledby="counts">
      ${states.map((state) => {
        const count = counts.states[state] ?? 0;
        const shown = counts.capped.includes(state) ? `${counts.cap}+` : String(count);
        return html`<li>
          <a
            href="/sagas${filterQuery({ ...filters, state })}"
            ${filters.state === state ? html` aria-current="true"` : ''}
            >${state} <b>${shown}</b></a
          >
        </li>`;
      })}
    </ul>
    <h2>Filter</h2>
    <form class="filters" method="get" action="/sagas">
      <div>
        <label for="state">State</label>
        <select id="state" name="state">
          <option value="">any</option>
          ${states.map((state) => html`<option${filters.state === state ? html` selected` : ''}>${state}</option>`)}
        </select>
      </div>
      ${
        view.canSeeAllTenants
          ? html`<div>
              <label for="tenant">Tenant</label>
              <input
                type="text"
                id="tenant"
                name="tenant"
                value="${filters.tenant ?? ''}"
                placeholder="every tenant"
              />
            </div>`
          : ''
      }
      <div>
        <label for="reason">Reason</label>
        <input
          type="text"
          id="reason"
          name="reason"
          value="${filters.reason ?? ''}"
          placeholder="e.g. payment-timeout"
        />
      </div>
      <div>
        <label for="customer">Customer</label>
        <input type="text" id="customer" name="customer" value="${filters.customer ?? ''}" />
      </div>
      <div>
        <label for="olderThan">In its state for at least</label>
        <input
          type="text"
          id="olderThan"
          name="olderThan"
          value="${filters.olderThan ?? ''}"
          placeholder="e.g. 30s, 5m, 1h, 2d"
          aria-describedby="olderThan-hint"
        />
        <p class="hint" id="olderThan-hint">30s, 5m, 1h or 2d</p>
      </div>
      <div>
        <label class="check"
          ><input type="checkbox" name="stuck" value="1" ${filters.stuck ? html` checked` : ''} />
          Stuck only</label
        >
        <p class="hint">not final, and past its deadline (or in its state as long as above)</p>
      </div>
      <div class="actions">
        <button type="submit">Filter</button>
        <a class="button secondary" href="/sagas">Clear</a>
        <a
          class="button secondary"
          href="/sagas${filterQuery({ stuck: true, olderThan: view.stuckPreset })}"
          >Stuck (${view.stuckPreset})</a
        >
      </div>
    </form>
    ${
      filters.state && !searching
        ? html`<div class="actions" aria-label="Act on every saga of this filter">
            ${(['retry', 'cancel', 'resolve'] as const).map(
              (action) =>
                html`<a class="button secondary" href="/sagas/bulk/${action}${filterQuery(filters)}"
                  >${ACTION_WORDS[action].verb} all ${filters.state}…</a
                >`,
            )}
          </div>`
        : ''
    }
    <h2>
      ${searching ? `Sagas with the id ${view.query ?? ''}` : 'Sagas, newest transition first'}
    </h2>
    ${sagaTable(view.sagas, searching ? 'Search results' : 'Sagas')}
    ${
      view.nextCursor
        ? html`<p class="pager">
            <a href="/sagas${filterQuery(filters, { cursor: view.nextCursor })}">Older sagas →</a>
          </p>`
        : ''
    }`;
}

function sagaTable(sagas: SagaSummary[], caption: string): Html {
  const now = Date.now();
  return table(
    caption,
    [
      'Saga',
      'Order',
      'Tenant',
      'Customer',
      'State',
      'Reason',
      'Amount#',
      'In state for',
      'Deadline',
    ],
    sagas.map(
      (s) =>
        html`<tr>
          <td>
            <a class="mono" href="/sagas/${s.sagaId}" title="${s.sagaId}">${shortId(s.sagaId)}</a>
          </td>
          <td class="mono">${s.orderId}</td>
          <td>${s.tenantId}</td>
          <td>${s.customerId}</td>
          <td>${stateBadge(s.state)}</td>
          <td>${s.reason ?? ''}</td>
          <td class="num">${money(s.amountMinor, s.currency)}</td>
          <td>${age(s.updatedAt, now)}</td>
          <td>${time(s.deadlineAt)}</td>
        </tr>`,
    ),
    'No saga matches.',
  );
}

export interface SagaParts {
  payment: PaymentView | 'none' | { unavailable: string };
  reservations: ReservationView[] | { unavailable: string };
  timeline: TimelineRow[];
  truncated: boolean;
  traceUrl?: string;
}

export function sagaDetailContent(saga: SagaDetail, parts: SagaParts): Html {
  return html` ${facts([
      ['State', stateBadge(saga.state)],
      ['Reason', saga.reason ?? '—'],
      ['Order', html`<span class="mono">${saga.orderId}</span>`],
      ['Tenant', saga.tenantId],
      ['Customer', saga.customerId],
      ['Amount', money(saga.amountMinor, saga.currency)],
      ['Started', time(saga.createdAt)],
      ['Last transition', html`${time(saga.updatedAt)} (${age(saga.updatedAt)} ago)`],
      [
        'Waiting for',
        saga.waitingFor
          ? html`${saga.waitingFor.step}, deadline ${time(saga.waitingFor.deadlineAt)}`
          : 'nothing (final)',
      ],
      ['Version', String(saga.version)],
      [
        'PaymentIntent',
        saga.paymentIntentId ? html`<span class="mono">${saga.paymentIntentId}</span>` : '—',
      ],
      ['Trace', traceLink(saga.traceId, parts.traceUrl)],
    ])}
    <h2>Actions</h2>
    ${
      saga.actions.length > 0
        ? html`<div class="actions">
            ${saga.actions.map(
              (action) =>
                html`<a
                  class="button${action === 'cancel' ? ' danger' : ''}"
                  href="/sagas/${saga.sagaId}/${action}"
                  >${ACTION_WORDS[action].button}</a
                >`,
            )}
          </div>`
        : html`<p class="empty">No operator action applies in state ${saga.state}.</p>`
    }
    <h2>Timeline</h2>
    ${parts.truncated ? notice('error', 'A stream held more messages in this saga’s window than the console reads: later events may be missing.') : ''}
    ${table(
      `Timeline: ${parts.timeline.filter((r) => r.kind === 'state').length} state changes, ${parts.timeline.filter((r) => r.kind === 'event').length} events`,
      ['Time', 'Gap#', 'What', 'Subject or trigger', 'Stream sequence#', 'Event or reason'],
      parts.timeline.map((row) =>
        row.kind === 'state'
          ? html`<tr class="step">
              <td>${time(row.at)}</td>
              <td class="num">${gap(row.gapMs)}</td>
              <td>${row.from ? html`${stateBadge(row.from)} → ` : ''}${stateBadge(row.to)}</td>
              <td><code>${row.trigger}</code></td>
              <td></td>
              <td>${row.reason ?? ''}</td>
            </tr>`
          : html`<tr>
              <td>${time(row.at)}</td>
              <td class="num">${gap(row.gapMs)}</td>
              <td>event</td>
              <td><code>${row.subject}</code></td>
              <td class="num">${row.stream}/${row.seq}</td>
              <td class="mono">${row.eventId}</td>
            </tr>`,
      ),
      'Nothing recorded yet.',
    )}
    <h2>Order</h2>
    ${facts([
      ['Status', saga.order.status],
      ['Total', money(saga.order.totalMinor, saga.order.currency)],
      ['Placed', time(saga.order.createdAt)],
    ])}
    ${table(
      'Order lines',
      ['SKU', 'Quantity#', 'Unit price#'],
      saga.order.lines.map(
        (l) =>
          html`<tr>
            <td>${l.sku}</td>
            <td class="num">${l.quantity}</td>
            <td class="num">${money(l.unitPriceMinor, saga.order.currency)}</td>
          </tr>`,
      ),
      'No lines.',
    )}
    <h2>Payment</h2>
    ${paymentFacts(parts.payment)}
    <h2>Reservation</h2>
    ${reservationFacts(parts.reservations, saga.reservationId)}
    <h2>Audit trail</h2>
    ${table(
      'Audit trail of the saga and its order',
      ['Time', 'Actor', 'Action', 'Result', 'Note or error'],
      saga.audit.map(
        (a) =>
          html`<tr>
            <td>${time(a.at)}</td>
            <td>${a.actor}</td>
            <td><code>${a.action}</code></td>
            <td>${a.result}</td>
            <td>${a.reason ?? ''}</td>
          </tr>`,
      ),
      'No audit records.',
    )}`;
}

function gap(ms: number | null): string {
  return ms === null ? '' : `+${formatDuration(ms)}`;
}

function traceLink(traceId: string | null, template: string | undefined): Html | string {
  if (!traceId) return 'none (tracing off when the order was placed)';
  if (!template) return html`<span class="mono">${traceId}</span>`;
  return html`<a class="mono" href="${template.replace('{traceId}', encodeURIComponent(traceId))}"
    >${traceId}</a
  >`;
}

function paymentFacts(payment: SagaParts['payment']): Html {
  if (payment === 'none')
    return html`<p class="empty">
      No payment for this order (yet), or not in your token’s tenant.
    </p>`;
  if ('unavailable' in payment)
    return notice('error', `The payment app did not answer: ${payment.unavailable}`);
  return facts([
    ['Status', payment.status],
    ['Amount', money(payment.amountMinor, payment.currency)],
    [
      'PaymentIntent',
      payment.paymentIntentId ? html`<span class="mono">${payment.paymentIntentId}</span>` : '—',
    ],
    [
      'Failure',
      payment.failure
        ? `${payment.failure.reason}${payment.failure.code ? ` (${payment.failure.code})` : ''}`
        : '—',
    ],
  ]);
}

function reservationFacts(
  reservations: SagaParts['reservations'],
  reservationId: string | null,
): Html {
  if ('unavailable' in reservations)
    return notice('error', `The inventory app did not answer: ${reservations.unavailable}`);
  const [reservation] = reservations;
  if (!reservation)
    return html`<p class="empty">
      No reservation for this order${reservationId ? '' : ' (yet)'}, or not in your token’s tenant.
    </p>`;
  return html`${facts([
    ['Status', reservation.status],
    ['Released because', reservation.releasedReason ?? '—'],
    ['Expires', time(reservation.expiresAt)],
    ['Total', money(reservation.totalMinor, reservation.currency)],
  ])}
  ${table(
    'Reserved lines',
    ['SKU', 'Quantity#', 'Unit price#'],
    reservation.lines.map(
      (l) =>
        html`<tr>
          <td>${l.sku}</td>
          <td class="num">${l.quantity}</td>
          <td class="num">${money(l.unitPriceMinor, reservation.currency)}</td>
        </tr>`,
    ),
    'No lines.',
  )}`;
}

/** The confirmation of one action: it names the saga, its order and state, and what happens. */
export function confirmActionContent(
  context: PageContext,
  saga: SagaDetail,
  action: SagaAction,
  idempotencyKey: string,
): Html {
  const words = ACTION_WORDS[action];
  if (!saga.actions.includes(action)) {
    return html`${notice('error', `${words.verb} is not possible in state ${saga.state}${saga.actions.length ? `; it allows ${saga.actions.join(', ')}` : ''}.`)}
      <p><a href="/sagas/${saga.sagaId}">Back to the saga</a></p>`;
  }
  return html`<div class="confirm">
    <p>${words.explains}</p>
    ${facts([
      ['Saga', html`<span class="mono">${saga.sagaId}</span>`],
      ['Order', html`<span class="mono">${saga.orderId}</span>`],
      ['State now', stateBadge(saga.state)],
      ['Tenant', saga.tenantId],
    ])}
    <form method="post" action="/sagas/${saga.sagaId}/${action}">
      ${csrfField(context)}
      <input type="hidden" name="idempotencyKey" value="${idempotencyKey}" />
      <p>
        <label for="note"
          >Note${action === 'resolve' ? ' (required: what was done)' : ' (optional)'}</label
        >
        <textarea
          id="note"
          name="note"
          maxlength="500"
          ${action === 'resolve' ? html` required` : ''}
        ></textarea>
      </p>
      <div class="actions">
        <button type="submit" ${action === 'cancel' ? html` class="danger"` : ''}>
          ${words.verb} saga ${saga.sagaId}
        </button>
        <a class="button secondary" href="/sagas/${saga.sagaId}">Back, do nothing</a>
      </div>
    </form>
  </div>`;
}

export function actionResultContent(result: SagaActionResult, actor: string): Html {
  return html`${notice(
      'ok',
      html`${ACTION_WORDS[result.action].verb}: saga <span class="mono">${result.sagaId}</span> went
        from ${stateBadge(result.from)} to ${stateBadge(result.state)} and emitted
        <code>${result.event.subject}</code> (event
        <span class="mono">${result.event.eventId}</span>). The order app recorded it in its audit
        trail as ${actor}.`,
    )}
    <p><a href="/sagas/${result.sagaId}">Back to the saga</a> · <a href="/sagas">All sagas</a></p>`;
}

/** A bulk action: the dry run's count and sagas, and the form that applies it to the filter. */
export function confirmBulkContent(
  context: PageContext,
  action: SagaAction,
  filters: ListFilters,
  filter: SagaFilter & { state: string },
  dryRun: BulkSagaActionResult,
  idempotencyKey: string,
): Html {
  const words = ACTION_WORDS[action];
  return html`<div class="confirm">
    <p>${words.explains}</p>
    <p>
      <strong>${dryRun.matched}</strong> saga(s) in state ${filter.state} match
      now${dryRun.more ? ` (the oldest ${dryRun.matched}; more match: run it again for the next ones)` : ''}.
    </p>
    ${
      dryRun.matched > 0
        ? html`<form method="post" action="/sagas/bulk/${action}">
            ${csrfField(context)}
            <input type="hidden" name="idempotencyKey" value="${idempotencyKey}" />
            <input type="hidden" name="limit" value="${dryRun.matched}" />
            ${Object.entries(filters).map(([name, value]) =>
              value === undefined || value === false
                ? ''
                : html`<input
                    type="hidden"
                    name="${name}"
                    value="${value === true ? '1' : String(value)}"
                  />`,
            )}
            <p>
              <label for="note"
                >Note${action === 'resolve' ? ' (required: what was done)' : ' (optional)'}</label
              >
              <textarea
                id="note"
                name="note"
                maxlength="500"
                ${action === 'resolve' ? html` required` : ''}
              ></textarea>
            </p>
            <div class="actions">
              <button type="submit" ${action === 'cancel' ? html` class="danger"` : ''}>
                ${words.verb} these ${dryRun.matched} saga(s)
              </button>
              <a class="button secondary" href="/sagas${filterQuery(filters)}">Back, do nothing</a>
            </div>
          </form>`
        : html`<p><a href="/sagas${filterQuery(filters)}">Back to the sagas</a></p>`
    }
    ${table(
      'Sagas of the dry run, oldest transition first',
      ['Saga'],
      dryRun.sagaIds.map(
        (id) =>
          html`<tr>
            <td><a class="mono" href="/sagas/${id}">${id}</a></td>
          </tr>`,
      ),
      'None.',
    )}
  </div>`;
}

export function bulkResultContent(result: BulkSagaActionResult, filters: ListFilters): Html {
  return html`${notice(
      'ok',
      `${ACTION_WORDS[result.action].verb}: applied to ${result.applied} of ${result.matched} saga(s); ${result.skipped.length} skipped (another transition moved them first). Each is in the order app's audit trail.${result.more ? ' More match: run it again for the next ones.' : ''}`,
    )}
    ${table(
      'Sagas acted on',
      ['Saga', 'Outcome'],
      result.sagaIds.map(
        (id) =>
          html`<tr>
            <td><a class="mono" href="/sagas/${id}">${id}</a></td>
            <td>${result.skipped.includes(id) ? 'skipped' : 'done'}</td>
          </tr>`,
      ),
      'None.',
    )}
    <p><a href="/sagas${filterQuery(filters)}">Back to the sagas</a></p>`;
}
