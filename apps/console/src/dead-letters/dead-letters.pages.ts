import { DeadLetterFilter, ReplayedLetter, StoredLetter, letterBody } from '@lib/operations';
import { redacted, time } from '../pages/format';
import { html, Html } from '../pages/html';
import { csrfField, facts, notice, PageContext, table } from '../pages/layout';

export function letterQuery(filter: DeadLetterFilter): string {
  const params = new URLSearchParams();
  if (filter.consumer) params.set('consumer', filter.consumer);
  if (filter.subject) params.set('subject', filter.subject);
  const text = params.toString();
  return text ? `?${text}` : '';
}

const REPLAY_EXPLAINED =
  'Each letter is published again on its original subject with a fresh message id and removed from the DLQ; the consumer’s inbox keeps an event it had already handled from applying twice. Each replay is recorded in the audit trail of the app whose consumer gave up on it.';

export function deadLettersContent(view: {
  filter: DeadLetterFilter;
  letters: StoredLetter[];
  /** Every consumer and subject with letters, for the filter's choices. */
  consumers: string[];
  subjects: string[];
  shown: number;
  canAct: boolean;
}): Html {
  const { filter, letters } = view;
  const select = (name: string, label: string, options: string[], chosen?: string) =>
    html`<div>
      <label for="${name}">${label}</label>
      <select id="${name}" name="${name}">
        <option value="">any</option>
        ${options.map((o) => html`<option${o === chosen ? html` selected` : ''}>${o}</option>`)}
      </select>
    </div>`;
  return html` <form class="filters" method="get" action="/dead-letters">
      ${select('consumer', 'Consumer', view.consumers, filter.consumer)}
      ${select('subject', 'Original subject', view.subjects, filter.subject)}
      <div class="actions">
        <button type="submit">Filter</button>
        <a class="button secondary" href="/dead-letters">Clear</a>
      </div>
    </form>
    ${
      view.canAct && letters.length > 0
        ? html`<div class="actions">
            <a class="button" href="/dead-letters/replay${letterQuery(filter)}"
              >Replay these ${letters.length}…</a
            >
            <a class="button danger" href="/dead-letters/purge">Purge every dead letter…</a>
          </div>`
        : ''
    }
    ${letters.length > view.shown ? notice('error', `Showing the oldest ${view.shown} of ${letters.length}.`) : ''}
    ${table(
      `Dead letters: ${letters.length}`,
      ['DLQ seq#', 'Original#', 'Subject', 'Consumer', 'Deliveries#', 'Dead-lettered', 'Error'],
      letters.slice(0, view.shown).map(
        ({ seq, letter: l }) =>
          html`<tr>
            <td class="num"><a href="/dead-letters/${seq}">${seq}</a></td>
            <td class="num">${l.stream}/${l.sequence}</td>
            <td><code>${l.subject}</code></td>
            <td class="mono">${l.consumer}</td>
            <td class="num">${l.deliveries}</td>
            <td>${time(l.deadLetteredAt)}</td>
            <td>${l.error.length > 140 ? `${l.error.slice(0, 140)}…` : l.error}</td>
          </tr>`,
      ),
      'No dead letters.',
    )}`;
}

export function deadLetterContent(stored: StoredLetter, canAct: boolean): Html {
  const { seq, letter: l } = stored;
  const body = letterBody(l) as { correlationId?: unknown } | string;
  const conversation = typeof body === 'object' && body !== null ? body.correlationId : undefined;
  return html`${facts([
      ['DLQ sequence', String(seq)],
      ['Original stream and sequence', `${l.stream}/${l.sequence}`],
      ['Subject', html`<code>${l.subject}</code>`],
      ['Consumer', html`<span class="mono">${l.consumer}</span>`],
      ['Deliveries', String(l.deliveries)],
      ['Dead-lettered', time(l.deadLetteredAt)],
      [
        'Its conversation',
        typeof conversation === 'string'
          ? html`<a href="/sagas?q=${encodeURIComponent(conversation)}"
              >the saga of ${conversation}</a
            >`
          : '—',
      ],
    ])}
    <h2>Error</h2>
    <pre>${l.error}</pre>
    ${canAct ? html`<div class="actions"><a class="button" href="/dead-letters/replay?seq=${seq}">Replay…</a></div>` : ''}
    <h2>Headers</h2>
    <pre>${JSON.stringify(redacted(l.headers), null, 2)}</pre>
    <h2>Body</h2>
    <pre>${pretty(letterBody(l))}</pre>
    <p><a href="/dead-letters">All dead letters</a></p>`;
}

function pretty(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(redacted(body), null, 2);
}

export function confirmReplayContent(
  context: PageContext,
  letters: StoredLetter[],
  back: string,
): Html {
  if (letters.length === 0)
    return html`${notice('error', 'No dead letter to replay: they may have been replayed or purged meanwhile.')}
      <p><a href="/dead-letters">All dead letters</a></p>`;
  return html`<div class="confirm">
      <p>${REPLAY_EXPLAINED}</p>
      <form method="post" action="/dead-letters/replay">
        ${csrfField(context)}
        ${letters.map(({ seq }) => html`<input type="hidden" name="seq" value="${seq}" />`)}
        <p>
          <label for="note">Note (optional, kept in the audit trail)</label>
          <textarea id="note" name="note" maxlength="500"></textarea>
        </p>
        <div class="actions">
          <button type="submit">Replay ${letters.length} dead letter(s)</button>
          <a class="button secondary" href="${back}">Back, do nothing</a>
        </div>
      </form>
    </div>
    ${lettersTable('To replay', letters)}`;
}

export function replayResultContent(
  replayed: ReplayedLetter[],
  gone: number[],
  actor: string,
): Html {
  return html`${notice(
      'ok',
      `Replayed ${replayed.length} dead letter(s), recorded in the audit trails as ${actor}.${gone.length ? ` ${gone.length} were gone already (replayed or purged meanwhile): DLQ ${gone.join(', ')}.` : ''}`,
    )}
    ${table(
      'Replayed',
      ['DLQ seq#', 'Subject', 'Consumer', 'Published again as#'],
      replayed.map(
        (r) =>
          html`<tr>
            <td class="num">${r.seq}</td>
            <td><code>${r.subject}</code></td>
            <td class="mono">${r.consumer}</td>
            <td class="num">${r.stream}/${r.republishedAs}</td>
          </tr>`,
      ),
      'Nothing replayed.',
    )}
    <p><a href="/dead-letters">All dead letters</a></p>`;
}

export function confirmPurgeContent(context: PageContext, letters: StoredLetter[]): Html {
  const last = letters.at(-1);
  if (!last)
    return html`${notice('ok', 'There are no dead letters.')}
      <p><a href="/dead-letters">All dead letters</a></p>`;
  const consumers = new Set(letters.map(({ letter }) => letter.consumer));
  return html`<div class="confirm">
      <p>
        Removes the ${letters.length} dead letter(s) there are now, of ${consumers.size}
        consumer(s), for good: they cannot be replayed afterwards. A letter that arrives meanwhile
        stays. Each consumer’s letters leave one record in its app’s audit trail.
      </p>
      <form method="post" action="/dead-letters/purge">
        ${csrfField(context)}
        <input type="hidden" name="upTo" value="${last.seq}" />
        <p>
          <label for="note">Note (optional, kept in the audit trail)</label>
          <textarea id="note" name="note" maxlength="500"></textarea>
        </p>
        <div class="actions">
          <button type="submit" class="danger">Purge ${letters.length} dead letter(s)</button>
          <a class="button secondary" href="/dead-letters">Back, do nothing</a>
        </div>
      </form>
    </div>
    ${lettersTable('To purge', letters)}`;
}

export function purgeResultContent(purged: number, actor: string): Html {
  return html`${notice('ok', `Purged ${purged} dead letter(s), recorded in the audit trails as ${actor}.`)}
    <p><a href="/dead-letters">All dead letters</a></p>`;
}

function lettersTable(caption: string, letters: StoredLetter[]): Html {
  return table(
    caption,
    ['DLQ seq#', 'Subject', 'Consumer', 'Error'],
    letters.map(
      ({ seq, letter: l }) =>
        html`<tr>
          <td class="num">${seq}</td>
          <td><code>${l.subject}</code></td>
          <td class="mono">${l.consumer}</td>
          <td>${l.error.slice(0, 140)}</td>
        </tr>`,
    ),
    'None.',
  );
}
