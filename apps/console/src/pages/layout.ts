import { Principal } from '@lib/platform';
import { CSRF_FIELD } from '../session/session';
import { html, Html, HtmlValue } from './html';

/** What every page needs from its request: who is signed in, and the form token. */
export interface PageContext {
  principal?: Principal;
  csrfToken: string;
  /** The section the page belongs to, marked in the navigation. */
  section?: 'sagas' | 'dead-letters' | 'streams';
}

/** The hidden field every form repeats (session.ts checks it). */
export function csrfField(context: PageContext): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${context.csrfToken}" />`;
}

const SECTIONS = [
  { id: 'sagas', href: '/sagas', label: 'Sagas', permission: 'sagas:read' },
  { id: 'dead-letters', href: '/dead-letters', label: 'Dead letters', permission: 'streams:read' },
  { id: 'streams', href: '/streams', label: 'Streams', permission: 'streams:read' },
] as const;

/** A whole page: header with the sections the principal may open, the content, no script. */
export function page(context: PageContext, title: string, content: HtmlValue): string {
  const { principal } = context;
  const sections = SECTIONS.filter((s) => principal?.can(s.permission));
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · saga console</title>
        <link rel="stylesheet" href="/assets/console.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <p class="brand"><a href="/sagas">saga console</a></p>
          ${
            principal
              ? html`<nav aria-label="Sections">
                    <ul>
                      ${sections.map(
                        (s) =>
                          html`<li>
                            <a
                              href="${s.href}"
                              ${context.section === s.id ? html` aria-current="page"` : ''}
                              >${s.label}</a
                            >
                          </li>`,
                      )}
                    </ul>
                  </nav>
                  <form class="signout" method="post" action="/logout">
                    ${csrfField(context)}
                    <span class="who"
                      >${principal.sub} · ${principal.roles.join(', ')} · tenant
                      ${principal.tenantId}</span
                    >
                    <button type="submit" class="link">Sign out</button>
                  </form>`
              : ''
          }
        </header>
        <main id="main">
          <h1>${title}</h1>
          ${content}
        </main>
      </body>
    </html> `.value;
}

/** A column heading; `#` at its end marks a column of numbers (aligned right, the mark dropped). */
function columnHead(label: string): Html {
  return label.endsWith('#')
    ? html`<th scope="col" class="num">${label.slice(0, -1)}</th>`
    : html`<th scope="col">${label}</th>`;
}

/** A table that scrolls sideways on a narrow screen instead of squeezing its columns. */
export function table(caption: string, head: string[], rows: Html[], empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap" role="region" aria-label="${caption}" tabindex="0">
    <table>
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          ${head.map(columnHead)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

/** An outcome shown after an action or a refusal. */
export function notice(kind: 'ok' | 'error', content: HtmlValue): Html {
  return kind === 'ok'
    ? html`<div class="notice ok" role="status">${content}</div>`
    : html`<div class="notice error" role="alert">${content}</div>`;
}

/** Label and value pairs, e.g. a saga's summary. */
export function facts(pairs: [string, HtmlValue][]): Html {
  return html`<dl class="facts">
    ${pairs.map(
      ([term, value]) =>
        html`<div>
          <dt>${term}</dt>
          <dd>${value}</dd>
        </div>`,
    )}
  </dl>`;
}
