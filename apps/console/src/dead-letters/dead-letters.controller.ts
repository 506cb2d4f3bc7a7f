import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { currentLogContext } from '@lib/observability';
import {
  deadLetterAt,
  DeadLetterFilter,
  DeadLetterNotFoundError,
  lettersMatching,
  OperationsActor,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
  StoredLetter,
} from '@lib/operations';
import { InvalidRequestError, Requires } from '@lib/platform';
import { Backbone } from '../backbone/backbone';
import { ConsoleAudit } from '../backbone/console-audit';
import { FormInput, positiveIntegers, textField } from '../pages/form-input';
import { page, PageContext } from '../pages/layout';
import { Page } from '../pages/page.decorator';
import { ConsoleRequest } from '../session/session';
import {
  confirmPurgeContent,
  confirmReplayContent,
  deadLetterContent,
  deadLettersContent,
  letterQuery,
  purgeResultContent,
  replayResultContent,
} from './dead-letters.pages';

/** Rows a list shows, and letters one replay takes: a form of more would be unwieldy. */
const AT_ONCE = 500;

/**
 * The DLQ, with saga-cli's semantics (libs/operations): list and filter, view one, replay one or
 * a filtered set (fresh message ids, the consumers' inboxes keep a replay from applying twice),
 * purge. What is replayed or purged is exactly what the confirmation listed, and each action is
 * recorded in the audit trail of the app whose consumer gave up on the letter, as the signed-in
 * operator; nothing moves when that record cannot be written.
 */
@Controller('dead-letters')
export class DeadLettersController {
  constructor(
    private readonly backbone: Backbone,
    private readonly audit: ConsoleAudit,
  ) {}

  @Get()
  @Requires('streams:read')
  @Page()
  async list(@Req() request: ConsoleRequest, @Query() query: FormInput): Promise<string> {
    const filter = letterFilter(query);
    const all = await readDeadLetters(this.backbone.js);
    const letters = all.filter(lettersMatching(filter));
    return page(
      context(request),
      'Dead letters',
      deadLettersContent({
        filter,
        letters,
        consumers: distinct(all.map(({ letter }) => letter.consumer)),
        subjects: distinct(all.map(({ letter }) => letter.subject)),
        shown: AT_ONCE,
        canAct: request.principal!.can('streams:act'),
      }),
    );
  }

  @Get('replay')
  @Requires('streams:act')
  @Page()
  async confirmReplay(@Req() request: ConsoleRequest, @Query() query: FormInput): Promise<string> {
    const seqs = positiveIntegers(query, 'seq', AT_ONCE);
    const filter = letterFilter(query);
    const letters =
      seqs.length > 0
        ? await Promise.all(seqs.map((seq) => deadLetterAt(this.backbone.jsm, seq)))
        : (await readDeadLetters(this.backbone.js, filter)).slice(0, AT_ONCE);
    const back =
      seqs.length === 1 ? `/dead-letters/${seqs[0]}` : `/dead-letters${letterQuery(filter)}`;
    return page(
      context(request),
      `Replay ${letters.length} dead letter(s)?`,
      confirmReplayContent(context(request), letters, back),
    );
  }

  @Post('replay')
  @HttpCode(200)
  @Requires('streams:act')
  @Page()
  async replay(@Req() request: ConsoleRequest, @Body() body: FormInput): Promise<string> {
    const seqs = positiveIntegers(body, 'seq', AT_ONCE);
    if (seqs.length === 0) throw new InvalidRequestError('no dead letter to replay was named');
    const found: StoredLetter[] = [];
    const gone: number[] = [];
    for (const seq of seqs) {
      // One replayed or purged since the confirmation is reported, not an error.
      const stored = await deadLetterAt(this.backbone.jsm, seq).catch((error: unknown) => {
        if (error instanceof DeadLetterNotFoundError) return undefined;
        throw error;
      });
      if (stored) found.push(stored);
      else gone.push(seq);
    }
    const by = actorOf(request, textField(body, 'note', 500));
    const replayed = await replayDeadLetters(
      this.backbone.js,
      this.backbone.jsm,
      found,
      this.audit,
      by,
    );
    return page(context(request), 'Replayed', replayResultContent(replayed, gone, by.actor));
  }

  @Get('purge')
  @Requires('streams:act')
  @Page()
  async confirmPurge(@Req() request: ConsoleRequest): Promise<string> {
    const letters = await readDeadLetters(this.backbone.js);
    return page(
      context(request),
      `Purge ${letters.length} dead letter(s)?`,
      confirmPurgeContent(context(request), letters),
    );
  }

  @Post('purge')
  @HttpCode(200)
  @Requires('streams:act')
  @Page()
  async purge(@Req() request: ConsoleRequest, @Body() body: FormInput): Promise<string> {
    const [upTo] = positiveIntegers(body, 'upTo', 1);
    if (upTo === undefined)
      throw new InvalidRequestError('upTo names the last dead letter to purge');
    const by = actorOf(request, textField(body, 'note', 500));
    const purged = await purgeDeadLetters(
      this.backbone.js,
      this.backbone.jsm,
      this.audit,
      by,
      upTo,
    );
    return page(context(request), 'Purged', purgeResultContent(purged, by.actor));
  }

  @Get(':seq')
  @Requires('streams:read')
  @Page()
  async view(@Req() request: ConsoleRequest, @Param('seq') seq: string): Promise<string> {
    const [number] = positiveIntegers({ seq }, 'seq', 1);
    const stored = await deadLetterAt(this.backbone.jsm, number!);
    return page(
      context(request),
      `Dead letter ${stored.seq}`,
      deadLetterContent(stored, request.principal!.can('streams:act')),
    );
  }
}

function context(request: ConsoleRequest): PageContext {
  return { principal: request.principal, csrfToken: request.csrfToken, section: 'dead-letters' };
}

function letterFilter(input: FormInput): DeadLetterFilter {
  return {
    ...(textField(input, 'consumer') && { consumer: textField(input, 'consumer') }),
    ...(textField(input, 'subject') && { subject: textField(input, 'subject') }),
  };
}

function distinct(values: string[]): string[] {
  return [...new Set(values)].sort();
}

/** The signed-in operator as the audit trail names them, with this request's ids and the note. */
function actorOf(request: ConsoleRequest, note: string | undefined): OperationsActor {
  const ids = currentLogContext();
  return {
    actor: request.principal!.sub,
    requestId: ids?.requestId ?? 'console',
    correlationId: ids?.correlationId,
    reason: note,
  };
}
