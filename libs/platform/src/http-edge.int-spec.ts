import {
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Module,
  Param,
  Post,
  Query,
  Req,
  UsePipes,
} from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import { IsArray, IsOptional, ValidateNested } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { connect, Socket } from 'node:net';
import { Writable } from 'node:stream';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { IsIdentifier, IsQuantity, IsSku } from '@lib/contracts';
import { createLogger, PinoNestLogger } from '@lib/observability';
import { freshSchema, query, TEST_DATABASE_URL } from '../../../tests/harness/database';
import { freePort, startNatsServer, TestNatsServer } from '../../../tests/harness/nats-server';
import { OPERATOR_USER } from '../../../infra/nats/permissions';
import { startPlatformApp, testConfig } from '../../../tests/harness/platform-app';
import { startTcpProxy, TcpProxy } from '../../../tests/harness/tcp-proxy';
import { bearer } from '../../../tests/harness/tokens';
import { eventually, sleep } from '../../../tests/harness/wait';
import { Public, Requires } from './auth/auth.decorators';
import { BaseConfig } from './base.config';
import { StrictValidationPipe } from './http-errors';
import { PlatformModule } from './platform.module';
import { OVER_LIMIT_DRAINED } from './request-input/json-body';

const SCHEMA = 'edge_probe';

class ProbeLine {
  @IsSku()
  sku: string;

  @IsQuantity()
  quantity: number;
}

class ProbeOrderRequest {
  @IsIdentifier()
  customerId: string;

  @ValidateNested({ each: true })
  @Type(() => ProbeLine)
  @IsArray()
  items: ProbeLine[];

  @IsOptional()
  @IsSku()
  currency?: string;
}

class ProbeSearch {
  @IsIdentifier()
  customerId: string;
}

/** Writes a row per accepted order, so a refused request can be shown to have written nothing. */
@Controller('probe')
@UsePipes(StrictValidationPipe)
class ProbeController {
  constructor(private readonly dataSource: DataSource) {}

  @Post('orders')
  @Requires('orders:place')
  async place(@Body() body: ProbeOrderRequest) {
    const [row] = await this.dataSource.query<{ id: number }[]>(
      `INSERT INTO ${SCHEMA}.orders (customer_id, quantity) VALUES ($1, $2) RETURNING id`,
      [body.customerId, body.items.reduce((sum, line) => sum + line.quantity, 0)],
    );
    return { id: row!.id };
  }

  @Get('orders/:ref')
  @Requires('orders:read')
  find(@Param('ref') ref: string) {
    return { ref };
  }

  @Get('search')
  @Requires('orders:read')
  search(@Query() search: ProbeSearch) {
    return search;
  }

  /** A statement that fails with another customer's row among its parameters. */
  @Post('clash')
  @Requires('orders:place')
  async clash() {
    await this.dataSource.query(`INSERT INTO ${SCHEMA}.emails (email) VALUES ($1), ($2)`, [
      'new-customer@example.com',
      'existing-customer@example.com',
    ]);
  }

  /** A transaction Postgres undoes as a deadlock's victim (SQLSTATE 40P01), raised by Postgres. */
  @Post('deadlock')
  @Requires('orders:place')
  async deadlock() {
    await this.dataSource.query(
      `DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$`,
    );
  }
}

@Controller('webhooks')
class ProbeWebhookController {
  @Post('probe')
  @HttpCode(200)
  @Public('a test webhook')
  receive(@Req() req: RawBodyRequest<FastifyRequest>) {
    return { bytes: req.rawBody?.length };
  }
}

@Module({})
class ProbeModule {
  static forRoot(config: BaseConfig) {
    return {
      module: ProbeModule,
      imports: [PlatformModule.forRoot({ service: 'edge-probe', config, schema: SCHEMA })],
      controllers: [ProbeController, ProbeWebhookController],
    };
  }
}

/** Every log line the apps write, as pino writes it. */
const logLines: Record<string, unknown>[] = [];
function captureLogs(): void {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  Logger.overrideLogger(new PinoNestLogger(createLogger('edge-probe', 'warn', destination)));
}

const ordersWritten = async () =>
  Number((await query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.orders`))[0]!.n);

const order = (overrides: Record<string, unknown> = {}) => ({
  customerId: 'alice',
  items: [{ sku: 'SKU-1', quantity: 1 }],
  ...overrides,
});

let nats: TestNatsServer;

beforeAll(async () => {
  await freshSchema(SCHEMA);
  nats = await startNatsServer();
});

afterAll(async () => {
  await nats?.destroy();
});

describe('the HTTP edge with the default limits', () => {
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());
  const customer = () => bearer('alice', ['customer'], 't1');

  beforeAll(async () => {
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER), { PORT: '3998' });
    app = await startPlatformApp(ProbeModule.forRoot(config), 'edge-probe', config);
    captureLogs();
    await query(
      `CREATE TABLE ${SCHEMA}.orders (id serial PRIMARY KEY, customer_id text NOT NULL, quantity int NOT NULL)`,
    );
    await query(`CREATE TABLE ${SCHEMA}.emails (email text PRIMARY KEY)`);
    await query(`INSERT INTO ${SCHEMA}.emails VALUES ('existing-customer@example.com')`);
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    logLines.length = 0;
  });

  it('sends security headers fit for a JSON API, and no X-Powered-By', async () => {
    for (const res of [
      await http().get('/health/live').expect(200),
      await http().get('/no-such-route').expect(404),
      await http().post('/probe/orders').send(order()).expect(401),
    ]) {
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('refuses bodies that are not JSON with 415 and writes nothing', async () => {
    const before = await ordersWritten();
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'customerId=alice&items[0][sku]=SKU-1'],
      ['text/plain', JSON.stringify(order())],
      ['multipart/form-data; boundary=x', '--x\r\n\r\nalice\r\n--x--'],
    ]) {
      const res = await http()
        .post('/probe/orders')
        .set(await customer())
        .set('content-type', type!)
        .send(body);
      expect(res.status).toBe(415);
      expect(res.body).toEqual({
        statusCode: 415,
        code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
        message: 'request bodies must be application/json',
      });
    }
    // JSON in another charset or compressed: not read (a gzip body could inflate past the limit).
    for (const [name, value] of [
      ['content-type', 'application/json; charset=utf-16le'],
      ['content-type', 'application/json; charset=latin1'],
      ['content-encoding', 'gzip'],
    ]) {
      const res = await http()
        .post('/probe/orders')
        .set(await customer())
        .set('content-type', 'application/json')
        .set(name!, value!)
        .send(JSON.stringify(order()));
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 415,
        body: {
          statusCode: 415,
          code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
          message: 'unsupported body encoding or charset',
        },
      });
    }
    // A body is refused on any method, not only those whose bodies are read.
    const get = await http()
      .get('/probe/orders/ref-1')
      .set(await customer())
      .set('content-type', 'text/plain')
      .send('hello');
    expect(get.status).toBe(415);
    expect(await ordersWritten()).toBe(before);
  });

  it('answers an over-size body 413 in JSON, without echoing it, and logs a warning without a stack', async () => {
    const marker = 'MARKER-'.repeat(10_000);
    const res = await http()
      .post('/probe/orders')
      .set(await customer())
      .send(order({ customerId: marker }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      statusCode: 413,
      code: 'REQUEST.TOO_LARGE',
      message: 'request bodies are limited to 64kb',
    });
    expect(res.text).not.toContain('MARKER');
    expect(logLines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'request body refused',
        code: 'REQUEST.TOO_LARGE',
      }),
    ]);
    expect(JSON.stringify(logLines)).not.toMatch(/MARKER|stack|"err"/);
  });

  it('answers malformed JSON 400 without echoing it', async () => {
    for (const body of [
      '{"customerId": "MARKER-1"',
      '"MARKER-2"',
      'MARKER-3',
      '{"a":1}{"MARKER-4":2}',
    ]) {
      const res = await http()
        .post('/probe/orders')
        .set(await customer())
        .set('content-type', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        code: 'REQUEST.MALFORMED_JSON',
        message: 'the body is not a JSON object or array',
      });
      expect(res.text).not.toContain('MARKER');
    }
    expect(logLines).toHaveLength(4);
    expect(logLines.every((line) => line.level === 'warn' && !('err' in line))).toBe(true);
    expect(JSON.stringify(logLines)).not.toContain('MARKER');
  });

  it('takes webhook deliveries up to 1 MB and keeps their raw bytes', async () => {
    const event = JSON.stringify({ id: 'evt_1', data: { object: { note: 'x'.repeat(500_000) } } });
    const res = await http()
      .post('/webhooks/probe')
      .set('content-type', 'application/json; charset=utf-8')
      .send(event)
      .expect(200);
    expect(res.body).toEqual({ bytes: Buffer.byteLength(event) });
    const tooLarge = await http()
      .post('/webhooks/probe')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ note: 'x'.repeat(1_100_000) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: 'REQUEST.TOO_LARGE' });
    // An empty JSON body (Content-Length: 0) is no body, not malformed JSON.
    const empty = await http()
      .post('/webhooks/probe')
      .set('content-type', 'application/json')
      .send('');
    expect({ status: empty.status, body: empty.body as unknown }).toEqual({
      status: 200,
      body: { bytes: 0 },
    });
  });

  it('reads an over-size body to its end before answering 413, so that its sender gets the answer; one far over is answered at once', async () => {
    // Listening as supertest does, for the length of the test: raw sockets need a port.
    const server = app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const limit = 1024 * 1024;
      const head = (length: number) =>
        `POST /webhooks/probe HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${length}\r\n\r\n`;
      const open = async () => {
        const socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        const errors: string[] = [];
        socket.on('error', (error: NodeJS.ErrnoException) =>
          errors.push(error.code ?? error.message),
        );
        return { socket, errors, answer: readUntilClosed(socket) };
      };

      const over = await open();
      let answered = false;
      over.socket.once('data', () => (answered = true));
      const body = Buffer.alloc(limit + 100 * 1024, 'x');
      over.socket.write(head(body.length));
      over.socket.write(body.subarray(0, limit / 2));
      await sleep(300);
      expect(answered).toBe(false);
      over.socket.write(body.subarray(limit / 2));
      const text = await over.answer;
      expect(text).toMatch(/^HTTP\/1\.1 413/);
      expect(text).toContain('REQUEST.TOO_LARGE');
      expect(over.errors).toEqual([]);

      const farOver = await open();
      farOver.socket.write(head(limit * OVER_LIMIT_DRAINED + 1));
      expect(await farOver.answer).toMatch(/^HTTP\/1\.1 413/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('routes as before: a trailing slash and a long parameter reach the route, not a 404', async () => {
    const long = 'r'.repeat(500);
    for (const path of ['/probe/orders/ref-2/', `/probe/orders/${long}`]) {
      const res = await http()
        .get(path)
        .set(await customer());
      expect({ status: res.status, body: res.body as unknown }).toEqual({
        status: 200,
        body: { ref: path.split('/')[3] },
      });
    }
  });

  it('refuses deeply nested JSON with 400 before validation, on every route', async () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const before = await ordersWritten();
    const bodies = [
      `{"customerId":"alice","items":[],"currency":${deep(5000)}}`,
      `{"customerId":"alice","items":${deep(40)}}`,
      '{"a":'.repeat(40) + '1' + '}'.repeat(40),
    ];
    for (const [path, body] of bodies.flatMap((b) => [
      ['/probe/orders', b],
      ['/webhooks/probe', b],
    ])) {
      const res = await http()
        .post(path!)
        .set(await customer())
        .set('content-type', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        code: 'REQUEST.INVALID',
        message: 'the input nests deeper than 32 levels',
      });
    }
    expect(await ordersWritten()).toBe(before);
  });

  it('refuses NUL and unpaired surrogates in any body string, and control characters in identifiers and parameters, writing nothing', async () => {
    const before = await ordersWritten();
    const refusals: [() => request.Test, string][] = [
      [
        () =>
          http()
            .post('/probe/orders')
            .send(order({ customerId: 'a\u0000b' })),
        'customerId must not contain NUL characters',
      ],
      [
        () =>
          http()
            .post('/probe/orders')
            .send(order({ items: [{ sku: 'SKU\u0000', quantity: 1 }] })),
        'items.0.sku must not contain NUL characters',
      ],
      [
        () =>
          http()
            .post('/probe/orders')
            .send({ ...order(), 'x\u0000': 1 }),
        'property names must not contain NUL characters',
      ],
      [
        () =>
          http()
            .post('/probe/orders')
            .send(order({ customerId: 'a\u0001b' })),
        'customerId must not contain control characters',
      ],
      [
        () =>
          http()
            .post('/probe/orders')
            .send(order({ customerId: 'tab\there' })),
        'customerId must not contain control characters',
      ],
      [
        // JSON's \ud800 escape: a string jsonb and UTF-8 cannot hold (it failed in the outbox insert).
        () =>
          http()
            .post('/probe/orders')
            .send(order({ customerId: 'a\ud800b' })),
        'customerId must be well-formed Unicode (no unpaired surrogates)',
      ],
      [
        () =>
          http()
            .post('/probe/orders')
            .send({ ...order(), 'x\udfff': 1 }),
        'property names must be well-formed Unicode (no unpaired surrogates)',
      ],
      [() => http().get('/probe/orders/a%00b'), 'ref must not contain control characters'],
      [() => http().get('/probe/orders/a%1Bb'), 'ref must not contain control characters'],
      [
        () => http().get('/probe/search?customerId=a%00b'),
        'customerId must not contain control characters',
      ],
      [
        () => http().get('/probe/search?customerId=a%0Ab'),
        'customerId must not contain control characters',
      ],
    ];
    const headers = await customer();
    for (const [send, message] of refusals) {
      const res = await send().set(headers);
      expect(res.body).toEqual({ statusCode: 400, code: 'REQUEST.INVALID', message });
    }
    expect(await ordersWritten()).toBe(before);
  });

  it('refuses prototype keys as unknown fields, wherever they are', async () => {
    const before = await ordersWritten();
    const line = '{"sku":"SKU-1","quantity":1}';
    for (const [body, field] of [
      [`{"customerId":"alice","items":[${line}],"__proto__":{"admin":true}}`, '__proto__'],
      [`{"customerId":"alice","items":[${line}],"constructor":{"prototype":{}}}`, 'constructor'],
      [
        `{"customerId":"alice","items":[{"sku":"SKU-1","quantity":1,"prototype":1}]}`,
        'items.0.prototype',
      ],
    ]) {
      const res = await http()
        .post('/probe/orders')
        .set(await customer())
        .set('content-type', 'application/json')
        .send(body);
      expect(res.body).toEqual({
        statusCode: 400,
        code: 'REQUEST.INVALID',
        message: `property ${field} should not exist`,
      });
    }
    const res = await http()
      .get('/probe/search?customerId=alice&__proto__=x')
      .set(await customer());
    expect(res.body).toMatchObject({
      statusCode: 400,
      message: 'property __proto__ should not exist',
    });
    expect(await ordersWritten()).toBe(before);
  });

  it('checks arrays of nested objects element by element', async () => {
    const before = await ordersWritten();
    for (const items of [
      [[{ sku: 'SKU-1', quantity: 1 }]],
      [{ sku: 'SKU-1', quantity: 1 }, 'x'],
      [null],
    ]) {
      const res = await http()
        .post('/probe/orders')
        .set(await customer())
        .send(order({ items }));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'REQUEST.INVALID' });
    }
    expect(await ordersWritten()).toBe(before);
  });

  it('refuses nothing under the limits: 200 concurrent orders from one principal and address', async () => {
    const before = await ordersWritten();
    const headers = await bearer('storefront', ['customer'], 't1');
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => http().post('/probe/orders').set(headers).send(order())),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    expect(await ordersWritten()).toBe(before + 200);
  });

  it('logs a failed statement without its SQL, its parameters or the values Postgres quotes', async () => {
    const res = await http()
      .post('/probe/clash')
      .set(await customer());
    expect(res.status).toBe(500);
    const [line] = logLines;
    expect(line).toMatchObject({
      level: 'error',
      err: expect.objectContaining({ type: 'QueryFailedError', code: '23505' }),
    });
    const logged = JSON.stringify(logLines);
    expect(logged).not.toContain('customer@example.com');
    expect(logged).not.toContain('INSERT');
  });

  it('answers 503 SERVICE.UNAVAILABLE with Retry-After, never 500, to a request Postgres undid in a deadlock', async () => {
    const res = await http()
      .post('/probe/deadlock')
      .set(await customer());
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toMatchObject({
      code: 'SERVICE.UNAVAILABLE',
      message: 'the request met another in the database and was undone; retry shortly',
    });
  });
});

describe('the HTTP edge with tight limits, its own metrics port and short timeouts', () => {
  let app: NestFastifyApplication;
  let port: number;
  let metricsPort: number;
  const http = () => request(`http://127.0.0.1:${port}`);
  /** The proxy in front (HTTP_TRUST_PROXY_HOPS=1) names the client. */
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  beforeAll(async () => {
    metricsPort = await freePort();
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER), {
      PORT: '3997',
      HTTP_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      HTTP_TRUST_PROXY_HOPS: '1',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_MAX_CONNECTIONS: '30',
      // A window far longer than a test: counts do not expire while one runs.
      RATE_LIMIT_WINDOW_MS: '600000',
      RATE_LIMIT_IP_READS: '8',
      RATE_LIMIT_IP_WRITES: '10',
      RATE_LIMIT_PRINCIPAL_READS: '0',
      RATE_LIMIT_PRINCIPAL_WRITES: '3',
    });
    app = await startPlatformApp(ProbeModule.forRoot(config), 'edge-probe', config);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });

  afterAll(async () => {
    await app?.close();
  });

  const expectRateLimited = (res: request.Response) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      statusCode: 429,
      code: 'RATE.LIMITED',
      message: expect.stringMatching(/^too many requests: retry after \d+ s$/),
    });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(600);
  };

  it('limits the writes of one principal, not those of another, and writes nothing when it refuses', async () => {
    const carol = await bearer('carol', ['customer'], 't1');
    const before = await ordersWritten();
    for (let i = 0; i < 3; i++) {
      await http().post('/probe/orders').set(from('10.0.0.1')).set(carol).send(order()).expect(201);
    }
    // Another address: the principal's own count refuses it.
    expectRateLimited(
      await http().post('/probe/orders').set(from('10.0.0.2')).set(carol).send(order()),
    );
    expect(await ordersWritten()).toBe(before + 3);
    // Reads are another class, off for principals here; another principal still writes.
    await http().get('/probe/orders/x').set(from('10.0.0.2')).set(carol).expect(200);
    await http()
      .post('/probe/orders')
      .set(from('10.0.0.2'))
      .set(await bearer('dan', ['customer'], 't1'))
      .send(order())
      .expect(201);
    // The same sub in another tenant is another principal.
    await http()
      .post('/probe/orders')
      .set(from('10.0.0.2'))
      .set(await bearer('carol', ['customer'], 't2'))
      .send(order())
      .expect(201);
  });

  it('limits an address before authentication: a flood of bad tokens stops costing denials', async () => {
    const denials = async () =>
      Number(
        (
          await query<{ n: string }>(
            `SELECT count(*) AS n FROM ${SCHEMA}.audit_log WHERE result = 'denied'`,
          )
        )[0]!.n,
      );
    const before = await denials();
    const flood = () =>
      http()
        .post('/probe/orders')
        .set(from('10.0.0.3'))
        .set('authorization', 'Bearer a.b.c')
        .send(order());
    for (let i = 0; i < 10; i++) expect((await flood()).status).toBe(401);
    expect(await denials()).toBe(before + 10);
    expectRateLimited(await flood());
    expectRateLimited(
      await http()
        .post('/probe/orders')
        .set(from('10.0.0.3'))
        .set(await bearer('erin', ['customer'], 't1'))
        .send(order()),
    );
    expect(await denials()).toBe(before + 10);
    // Reads from that address are counted apart, and another address is not limited.
    await http()
      .get('/probe/orders/x')
      .set(from('10.0.0.3'))
      .set(await bearer('erin', ['customer']))
      .expect(200);
    await http()
      .post('/probe/orders')
      .set(from('10.0.0.4'))
      .set(await bearer('erin', ['customer'], 't1'))
      .send(order())
      .expect(201);
  });

  it('never limits the health probes', async () => {
    for (let i = 0; i < 12; i++) await http().get('/health/live').set(from('10.0.0.5')).expect(200);
    const reads = await bearer('fay', ['operator']);
    for (let i = 0; i < 8; i++)
      await http().get('/probe/orders/x').set(from('10.0.0.5')).set(reads).expect(200);
    expectRateLimited(await http().get('/probe/orders/x').set(from('10.0.0.5')).set(reads));
  });

  it('serves /metrics on METRICS_PORT only, without per-entity labels', async () => {
    const metrics = await request(`http://127.0.0.1:${metricsPort}`).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toContain(
      'http_rate_limited_total{scope="principal",route_class="writes"',
    );
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    await request(`http://127.0.0.1:${metricsPort}`).get('/orders').expect(404);
    const appPort = await http().get('/metrics').set(from('10.0.0.6'));
    expect(appPort.status).toBe(404);
  });

  it('closes a connection whose headers do not arrive in time', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    socket.write('GET /health/live HTTP/1.1\r\nHost: probe\r\n');
    const answer = await readUntilClosed(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('accepts at most HTTP_MAX_CONNECTIONS connections at once', async () => {
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        open.push(socket);
      }
      // Give the server time to count them, then one more is dropped as it arrives.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const extra = connect(port, '127.0.0.1');
      extra.write('GET /health/live HTTP/1.1\r\nHost: probe\r\n\r\n');
      expect(await readUntilClosed(extra)).toBe('');
    } finally {
      open.forEach((socket) => socket.destroy());
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await http().get('/health/live').expect(200);
  });
});

describe('the HTTP edge while Postgres is out of reach', () => {
  let app: NestFastifyApplication;
  let proxy: TcpProxy;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const { hostname, port } = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER), {
      PORT: '3996',
      DATABASE_URL: proxy.through(TEST_DATABASE_URL),
    });
    app = await startPlatformApp(ProbeModule.forRoot(config), 'edge-probe', config);
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it('answers 503 SERVICE.UNAVAILABLE with Retry-After, never 500, and serves again once it is back', async () => {
    const customer = await bearer('alice', ['customer'], 't1');
    proxy.cut();
    try {
      const res = await http().post('/probe/orders').set(customer).send(order());

      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toEqual({
        statusCode: 503,
        code: 'SERVICE.UNAVAILABLE',
        message: 'the database is out of reach; retry shortly',
      });
    } finally {
      proxy.restore();
    }
    await eventually(
      async () => (await http().post('/probe/orders').set(customer).send(order())).status === 201,
      { what: 'orders to be written again' },
    );
  });
});

function readUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}
