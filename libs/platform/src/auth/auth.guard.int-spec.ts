import { Body, Controller, Get, Module, Post, UsePipes } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString } from 'class-validator';
import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { EntityManager } from 'typeorm';
import { freshSchema, query } from '../../../../tests/harness/database';
import { startNatsServer, TestNatsServer } from '../../../../tests/harness/nats-server';
import { OPERATOR_USER } from '../../../../infra/nats/permissions';
import { startPlatformApp, testConfig } from '../../../../tests/harness/platform-app';
import { bearer } from '../../../../tests/harness/tokens';
import { auditEntry, AuditLog } from '../audit/audit-log';
import { BaseConfig } from '../base.config';
import { StrictValidationPipe } from '../http-errors';
import { IdempotencyKey, IdempotencyScope } from '../idempotency/idempotency-key';
import { IdempotentRequests } from '../idempotency/idempotent-requests';
import { PlatformModule } from '../platform.module';
import { CurrentPrincipal, Public, Requires } from './auth.decorators';
import { Principal } from './principal';
import { mintToken } from './token-verifier';

const SCHEMA = 'auth_probe';

class NoteRequest {
  @IsString()
  text: string;
}

/** Routes of every kind the guard meets: public, permission-guarded, and one that forgot both. */
@Controller('probe')
@UsePipes(StrictValidationPipe)
class ProbeController {
  constructor(
    private readonly idempotent: IdempotentRequests,
    private readonly audit: AuditLog,
  ) {}

  @Get('open')
  @Public('a test route')
  open() {
    return { open: true };
  }

  @Get('orders')
  @Requires('orders:read')
  orders(@CurrentPrincipal() principal: Principal) {
    return { sub: principal.sub, tenantId: principal.tenantId };
  }

  @Get('forgotten')
  forgotten() {
    return { reached: true };
  }

  /** Writes a note once per Idempotency-Key, audited in the same transaction. */
  @Post('notes')
  @Requires('orders:place')
  note(
    @CurrentPrincipal() principal: Principal,
    @Body() body: NoteRequest,
    @IdempotencyKey() key?: IdempotencyScope,
  ) {
    return this.idempotent.run(key, body, async (manager: EntityManager) => {
      const [row] = await manager.query<{ id: number }[]>(
        `INSERT INTO ${SCHEMA}.notes (text) VALUES ($1) RETURNING id`,
        [body.text],
      );
      await this.audit.record(manager, [
        auditEntry(principal, 'note.write', { type: 'note', id: String(row!.id) }),
      ]);
      return { id: row!.id };
    });
  }
}

@Module({})
class ProbeModule {
  static forRoot(config: BaseConfig) {
    return {
      module: ProbeModule,
      imports: [PlatformModule.forRoot({ service: 'auth-probe', config, schema: SCHEMA })],
      controllers: [ProbeController],
    };
  }
}

describe('bearer tokens, permissions, audit and Idempotency-Key on HTTP routes', () => {
  let nats: TestNatsServer;
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());
  const customer = () => bearer('alice', ['customer'], 't1');

  beforeAll(async () => {
    await freshSchema(SCHEMA);
    nats = await startNatsServer();
    const config = testConfig(BaseConfig, nats.env(OPERATOR_USER), { PORT: '3999' });
    app = await startPlatformApp(ProbeModule.forRoot(config), 'auth-probe', config);
    await query(`CREATE TABLE ${SCHEMA}.notes (id serial PRIMARY KEY, text text NOT NULL)`);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.destroy();
  });

  const audit = (where: string, params: unknown[] = []) =>
    query<Record<string, unknown>>(
      `SELECT actor, tenant_id, action, entity_type, entity_id, result, reason, request_id
       FROM ${SCHEMA}.audit_log WHERE ${where} ORDER BY id`,
      params,
    );

  it('serves public routes, health and metrics without a token', async () => {
    await http().get('/probe/open').expect(200, { open: true });
    await http().get('/health/live').expect(200);
    await http().get('/metrics').expect(200);
  });

  it('answers 401 with WWW-Authenticate and a JSON error without a valid token, and audits it', async () => {
    const expired = await mintToken({ sub: 'alice', roles: ['customer'] }, { ttlSeconds: -60 });
    const foreign = await mintToken(
      { sub: 'alice', roles: ['customer'] },
      { secret: 'another-secret-of-at-least-32-characters!' },
    );
    const wrongIssuer = await mintToken({ sub: 'alice', roles: ['customer'] }, { issuer: 'evil' });
    const wrongAudience = await mintToken({ sub: 'a', roles: ['customer'] }, { audience: 'x' });
    const early = await mintToken({ sub: 'a', roles: ['customer'] }, { notBeforeSeconds: 600 });
    for (const authorization of [
      undefined,
      'Basic YWxpY2U6cw==',
      'Bearer not-a-jwt',
      `Bearer ${expired}`,
      `Bearer ${foreign}`,
      `Bearer ${wrongIssuer}`,
      `Bearer ${wrongAudience}`,
      `Bearer ${early}`,
    ]) {
      const req = http().get('/probe/orders').set('x-request-id', 'req-401');
      const res = await (authorization ? req.set('authorization', authorization) : req);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toMatchObject({ statusCode: 401, code: 'AUTH.UNAUTHENTICATED' });
    }
    const denied = await audit(`request_id = 'req-401'`);
    expect(denied).toHaveLength(8);
    expect(denied[0]).toMatchObject({
      actor: 'anonymous',
      action: 'http.request',
      entity_type: 'route',
      entity_id: 'GET /probe/orders',
      result: 'denied',
    });
  });

  it('accepts a token within the clock tolerance of its expiry', async () => {
    const justExpired = await mintToken({ sub: 'bob', roles: ['customer'] }, { ttlSeconds: -10 });
    await http().get('/probe/orders').set('authorization', `Bearer ${justExpired}`).expect(200);
  });

  it('passes the principal with its tenant; a token without one is in the default tenant', async () => {
    await http()
      .get('/probe/orders')
      .set(await customer())
      .expect(200, { sub: 'alice', tenantId: 't1' });
    await http()
      .get('/probe/orders')
      .set(await bearer('carol', ['customer']))
      .expect(200, { sub: 'carol', tenantId: 'default' });
  });

  it('answers 403 to a valid token without the permission, and audits the principal', async () => {
    const res = await http()
      .get('/probe/orders')
      .set(await bearer('mallory', ['merchant', 'not-a-role'], 't1'))
      .expect(403);
    expect(res.body).toMatchObject({ code: 'AUTH.FORBIDDEN' });
    expect(await audit(`actor = 'mallory'`)).toEqual([
      expect.objectContaining({ tenant_id: 't1', result: 'denied', reason: 'AUTH.FORBIDDEN' }),
    ]);
  });

  it('keeps the request id in the audit record of a request whose body arrived later', async () => {
    // The guard runs once the body is read, in a later turn than the request's hooks.
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      void bearer('oscar', ['merchant'], 't1').then((headers) => {
        const req = httpRequest({
          port,
          method: 'POST',
          path: '/probe/notes',
          headers: {
            ...headers,
            'content-type': 'application/json',
            'x-request-id': 'req-403-body',
          },
        });
        req.on('response', (res) => resolve(res.resume().statusCode!)).on('error', reject);
        req.write('{"text":');
        setTimeout(() => req.end('"late"}'), 100);
      }, reject);
    });
    expect(status).toBe(403);
    expect(await audit(`actor = 'oscar'`)).toEqual([
      expect.objectContaining({ entity_id: 'POST /probe/notes', request_id: 'req-403-body' }),
    ]);
  });

  it('refuses every principal on a route that declares no permission', async () => {
    for (const roles of [['customer'], ['operator'], ['merchant', 'trader', 'service']]) {
      await http()
        .get('/probe/forgotten')
        .set(await bearer('root', roles))
        .expect(403);
    }
  });

  it('runs a request once per Idempotency-Key and principal, with one audit record', async () => {
    const send = async (sub: string, text: string, key?: string) => {
      const req = http()
        .post('/probe/notes')
        .set(await bearer(sub, ['customer'], 't1'));
      return (key ? req.set('idempotency-key', key) : req).send({ text });
    };
    const first = await send('dave', 'hello', 'k-1');
    expect(first.status).toBe(201);
    const again = await send('dave', 'hello', 'k-1');
    expect(again.body).toEqual(first.body);
    // The same key with another body is refused and writes nothing.
    const reused = await send('dave', 'other', 'k-1');
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'REQUEST.IDEMPOTENCY_KEY_REUSED' });
    // Another principal's key of the same name is another request.
    const erin = await send('erin', 'other', 'k-1');
    expect(erin.status).toBe(201);
    expect(erin.body).not.toEqual(first.body);
    const notes = await query<{ text: string }>(`SELECT text FROM ${SCHEMA}.notes ORDER BY id`);
    expect(notes.map((n) => n.text)).toEqual(['hello', 'other']);
    expect(await audit(`action = 'note.write'`)).toHaveLength(2);
  });

  it('runs concurrent twins under one key once', async () => {
    const headers = { ...(await bearer('frank', ['customer'])), 'idempotency-key': 'twin' };
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => http().post('/probe/notes').set(headers).send({ text: 'x' })),
    );
    expect(new Set(answers.map((a) => JSON.stringify([a.status, a.body]))).size).toBe(1);
    const [row] = await query<{ count: string }>(
      `SELECT count(*) FROM ${SCHEMA}.notes WHERE text = 'x'`,
    );
    expect(row?.count).toBe('1');
  });

  it('starts a new request once a key has expired', async () => {
    const headers = { ...(await bearer('gina', ['customer'])), 'idempotency-key': 'old' };
    const first = await http().post('/probe/notes').set(headers).send({ text: 'y' });
    await query(`UPDATE ${SCHEMA}.idempotency_keys SET expires_at = now() WHERE key = 'old'`);
    const second = await http().post('/probe/notes').set(headers).send({ text: 'y' });
    expect(second.body).not.toEqual(first.body);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const res = await http()
      .post('/probe/notes')
      .set(await customer())
      .set('idempotency-key', 'x'.repeat(256))
      .send({ text: 'z' });
    expect(res.status).toBe(400);
  });
});
