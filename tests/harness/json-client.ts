import { Agent, request } from 'node:http';

/**
 * Idle connections close after this, before the server's keep-alive timeout (Node's default 5 s)
 * closes them: a request sent on a connection the server is closing would fail.
 */
const IDLE_CLOSE_MS = 3000;

export interface JsonAnswer {
  status: number;
  /** The body as sent, for error messages; `JSON.parse` it for the value. */
  text: string;
}

/**
 * JSON POSTs over keep-alive connections with node:http. A load generator shares the CPU with the
 * system it measures, and global fetch (undici) costs several times as much per request.
 */
export class JsonClient {
  private readonly agent: Agent;

  /** `connections`: at most this many open at once (as many as needed by default, as fetch does). */
  constructor(connections = Infinity) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, timeout: IDLE_CLOSE_MS });
  }

  post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
    const json = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(json),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(json);
    });
  }

  /** Closes the idle connections; call once no request is in flight. */
  close(): void {
    this.agent.destroy();
  }
}
