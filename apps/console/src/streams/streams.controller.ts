import { Controller, Get, Req } from '@nestjs/common';
import { streamsOverview } from '@lib/operations';
import { Requires } from '@lib/platform';
import { Backbone } from '../backbone/backbone';
import { html } from '../pages/html';
import { page, table } from '../pages/layout';
import { Page } from '../pages/page.decorator';
import { ConsoleRequest } from '../session/session';

/** Streams and their consumers as `saga-cli streams` shows them (libs/operations). */
@Controller('streams')
export class StreamsController {
  constructor(private readonly backbone: Backbone) {}

  @Get()
  @Requires('streams:read')
  @Page()
  async streams(@Req() request: ConsoleRequest): Promise<string> {
    const streams = await streamsOverview(this.backbone.jsm);
    const placement = (leader: string, lagging: string[]) =>
      leader ? `${leader}${lagging.length ? `; behind: ${lagging.join(', ')}` : ''}` : '';
    const content = streams.map(
      (s) =>
        html`<h2 id="stream-${s.name}">${s.name}</h2>
          <p>
            ${s.messages} messages (${s.bytes} bytes), sequences ${s.firstSeq} to
            ${s.lastSeq}${s.leader ? `, led by ${placement(s.leader, s.lagging)}` : ''}.
          </p>
          ${table(
            `Consumers of ${s.name}`,
            ['Consumer', 'Pending#', 'Ack pending#', 'Redelivered#', 'Leader'],
            s.consumers.map(
              (c) =>
                html`<tr>
                  <td class="mono">${c.name}</td>
                  <td class="num">${c.pending}</td>
                  <td class="num">${c.ackPending}</td>
                  <td class="num">${c.redelivered}</td>
                  <td>${placement(c.leader, c.lagging)}</td>
                </tr>`,
            ),
            'No consumers.',
          )}`,
    );
    return page(
      { principal: request.principal, csrfToken: request.csrfToken, section: 'streams' },
      'Streams and consumers',
      html`<p>
          Pending: messages a consumer has not been delivered yet; ack pending: delivered, not yet
          acknowledged; redelivered: delivered more than once.
        </p>
        ${content}`,
    );
  }
}
