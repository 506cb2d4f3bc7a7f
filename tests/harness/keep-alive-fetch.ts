import { Agent, request as httpRequest } from 'node:http';

/**
 * Idle connections close after this, before the server's keep-alive timeout (Node's default 5 s)
 * closes them: a request sent on a connection the server is closing would fail.
 */
const IDLE_CLOSE_MS = 3000;

/**
 * A `fetch` for the SDK (libs/client) over node:http keep-alive connections. A load generator
 * shares the CPU with the system it measures, and global fetch (undici) costs several times as
 * much per request.
 */
export class KeepAliveFetch {
  private readonly agent: Agent;

  /** `connections`: at most this many open at once (as many as needed by default, as fetch does). */
  constructor(connections = Infinity) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, timeout: IDLE_CLOSE_MS });
  }

  readonly fetch = async (request: Request): Promise<Response> => {
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        request.url,
        { method: request.method, agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const answer = new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), {
              status: res.statusCode,
              headers: Object.entries(res.headers).flatMap(([name, value]) =>
                (Array.isArray(value) ? value : [value ?? '']).map((v): [string, string] => [
                  name,
                  v,
                ]),
              ),
            });
            // Response.url is read-only and empty for a constructed one: error messages name it.
            Object.defineProperty(answer, 'url', { value: request.url });
            resolve(answer);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };

  /**
   * A JSON POST answered as its status and text, without the Request and Response objects that
   * `fetch` builds: a load generator's path (the benchmarks' POST /orders), at a fraction of the CPU.
   */
  postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<TextAnswer> {
    return requestText(this.agent, {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  /** Closes the idle connections; call once no request is in flight. */
  close(): void {
    this.agent.destroy();
  }
}

export interface TextRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface TextAnswer {
  status: number;
  text: string;
}

/**
 * One request over node:http on `agent`, answered as its status and text; fails with the code
 * `NO_ANSWER` when no answer comes within `timeoutMs`.
 */
export function requestText(
  agent: Agent,
  { method, url, headers = {}, body }: TextRequest,
  timeoutMs?: number,
): Promise<TextAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent,
        headers:
          body === undefined ? headers : { 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    if (timeoutMs !== undefined) {
      req.setTimeout(timeoutMs, () =>
        req.destroy(Object.assign(new Error('no answer'), { code: 'NO_ANSWER' })),
      );
    }
    req.on('error', reject);
    req.end(body);
  });
}
