import { Agent } from 'node:http';
import { requestText, TextAnswer, TextRequest } from '../harness/keep-alive-fetch';
import type { AppName } from './chaos-platform';

/** Who sent a request: the storefront's customers, the fuzzer, or stripe-local's webhooks. */
export type CallSource = 'storefront' | 'fuzz' | 'webhook';

/** One request to an app and how it ended: a status, or no answer at all (`error`). */
export interface CallRecord {
  app: AppName;
  /** `METHOD /path/:param`, for the figures. */
  route: string;
  source: CallSource;
  startedAt: number;
  endedAt: number;
  status: number | null;
  error: string | null;
  /** An app's 4xx whose body is not a JSON object: every refusal must say what was wrong, as JSON. */
  notJson: boolean;
  /** For a 5xx: the request and the answer, shortened, so a failure can be reproduced. */
  evidence?: string;
}

/** Longer than any answer a live app should take; a request left hanging this long is unanswered. */
const ANSWER_TIMEOUT_MS = 20_000;

/**
 * Sends requests over keep-alive connections (node:http: the load generator shares the CPU with
 * the apps) and records every answer, so the suite can tell a 5xx or a request left without an
 * answer from a refused connection to an app it had killed.
 */
export class HttpCalls {
  readonly records: CallRecord[] = [];
  private readonly agent = new Agent({ keepAlive: true, timeout: 3000 });

  /** The answer, or undefined when there was none (connection refused or reset, timeout). */
  async send(
    app: AppName,
    route: string,
    source: CallSource,
    req: TextRequest,
  ): Promise<TextAnswer | undefined> {
    const startedAt = Date.now();
    const record = (outcome: Pick<CallRecord, 'status' | 'error' | 'notJson' | 'evidence'>) =>
      this.records.push({ app, route, source, startedAt, endedAt: Date.now(), ...outcome });
    try {
      const answer = await requestText(this.agent, req, ANSWER_TIMEOUT_MS);
      record({
        status: answer.status,
        error: null,
        // A HEAD answer never has a body; the console answers with pages.
        notJson:
          answer.status >= 400 &&
          answer.status < 500 &&
          req.method !== 'HEAD' &&
          app !== 'console' &&
          !isJsonObject(answer.text),
        ...(answer.status >= 500 && { evidence: evidenceOf(req, answer) }),
      });
      return answer;
    } catch (error) {
      const code = (error as { code?: string }).code;
      record({
        status: null,
        error: code ?? (error instanceof Error ? error.message : String(error)),
        notJson: false,
      });
      return undefined;
    }
  }

  /** An answer stripe-local recorded for one of its webhook deliveries. */
  recordWebhook(at: number, status: number | null, error: string | null): void {
    this.records.push({
      app: 'payment',
      route: 'POST /webhooks/stripe',
      source: 'webhook',
      startedAt: at,
      endedAt: at,
      status,
      error,
      notJson: false,
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** The request and its answer, each cut to a few hundred characters, as JSON strings. */
function evidenceOf({ method, url, headers = {}, body }: TextRequest, answer: TextAnswer): string {
  const cut = (text: string) => JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text);
  const sent = body === undefined ? '' : Buffer.isBuffer(body) ? body.toString('latin1') : body;
  const { authorization, ...shown } = headers;
  return [
    `${method} ${cut(new URL(url).pathname + new URL(url).search)}`,
    `headers ${JSON.stringify({ ...shown, ...(authorization && { authorization: '…' }) })}`,
    `body ${cut(sent)}`,
    `answer ${cut(answer.text)}`,
  ].join('\n      ');
}
