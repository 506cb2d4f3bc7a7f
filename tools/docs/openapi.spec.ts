import { load } from 'js-yaml';
import { HTTP_APPS, openApi } from './openapi';

interface Response {
  $ref?: string;
  description?: string;
  content?: Record<string, { schema: Record<string, unknown> }>;
}

interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; schema: Record<string, unknown> }[];
  requestBody?: unknown;
  responses: Record<string, Response>;
  'x-permission'?: string | null;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<
      string,
      { required?: string[]; properties?: Record<string, Record<string, unknown>> }
    >;
  };
}

const documentOf = async (app: string) => load(await openApi(app)) as Document;

describe('the OpenAPI documents', () => {
  it.each(Object.keys(HTTP_APPS))(
    '%s: every operation is public or names its permission and the access errors',
    async (app) => {
      const document = await documentOf(app);
      expect(document.components.securitySchemes.bearer).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      });
      expect(document.components.schemas.Error?.required).toEqual([
        'statusCode',
        'code',
        'message',
      ]);
      for (const path of ['/health/live', '/health/ready', '/metrics'])
        expect(document.paths[path]?.get).toMatchObject({ security: [] });
      expect(document.paths['/audit']?.get).toMatchObject({
        security: [{ bearer: [] }],
        'x-permission': 'audit:read',
      });
      for (const operation of Object.values(document.paths).flatMap((p) => Object.values(p))) {
        if (operation.security?.length === 0) {
          expect(operation.description).toMatch(/^Public \(no token\): /m);
          continue;
        }
        expect(operation.security).toEqual([{ bearer: [] }]);
        expect(operation).toHaveProperty('x-permission');
        expect(Object.keys(operation.responses)).toEqual(
          expect.arrayContaining(['401', '403', '404', '429']),
        );
      }
    },
  );

  it('names the permission of each route from its @Requires, with the roles that grant it', async () => {
    const { paths } = await documentOf('order');
    expect(paths['/orders']?.post).toMatchObject({
      'x-permission': 'orders:place',
      description: expect.stringContaining(
        'Requires the `orders:place` permission (roles: customer).',
      ) as unknown,
      responses: { '403': { $ref: '#/components/responses/Forbidden' } },
    });
    expect(paths['/orders/{id}']?.get).toMatchObject({
      'x-permission': 'orders:read',
      description: expect.stringContaining(
        '(roles: customer, operator, platform-operator)',
      ) as unknown,
    });
  });

  it.each(Object.keys(HTTP_APPS))(
    '%s: every operation has the schema of its answer, and each error its codes',
    async (app) => {
      const document = await documentOf(app);
      for (const [path, methods] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(methods)) {
          const success = Object.entries(operation.responses).filter(([s]) => s.startsWith('2'));
          expect({ path, method, success: success.length }).toEqual({ path, method, success: 1 });
          const content = success[0]![1].content;
          expect({ path, method, schema: Object.values(content ?? {})[0]?.schema }).toEqual({
            path,
            method,
            schema: expect.any(Object),
          });
          for (const [status, response] of Object.entries(operation.responses)) {
            // Terminus documents its own 503 of the readiness probe.
            if (status.startsWith('2') || response.$ref || path === '/health/ready') continue;
            const schema = response.content?.['application/json']?.schema as {
              allOf: unknown[];
              properties: { code: { enum: string[] } };
            };
            expect(schema.allOf).toEqual([{ $ref: '#/components/schemas/Error' }]);
            expect(schema.properties.code.enum.length).toBeGreaterThan(0);
          }
          if (operation.requestBody)
            expect(Object.keys(operation.responses)).toEqual(
              expect.arrayContaining(['400', '413', '415']),
            );
        }
      }
    },
  );

  it('types integers, uuids and the domain errors each route answers, with examples', async () => {
    const { paths, components } = await documentOf('order');
    const { schemas } = components;
    expect(schemas.PlaceOrderLine?.properties?.quantity).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 1000,
    });
    expect(schemas.PlaceOrderLine?.properties?.sku).toMatchObject({ example: 'DEMO-TEE' });
    expect(schemas.PlaceOrderRequest?.properties?.currency).toMatchObject({
      pattern: '^[A-Za-z]{3}$',
      example: 'EUR',
    });
    expect(schemas.PlacedOrder?.properties?.orderId).toEqual({
      description: expect.any(String) as unknown,
      type: 'string',
      format: 'uuid',
    });
    expect(schemas.OrderView?.properties?.totalMinor).toMatchObject({
      type: 'integer',
      nullable: true,
    });
    expect(paths['/orders/{id}']?.get?.parameters).toEqual([
      { in: 'path', name: 'id', required: true, schema: { type: 'string', format: 'uuid' } },
    ]);
    const codes = (operation: Operation | undefined, status: string) =>
      (
        operation?.responses[status]?.content?.['application/json']?.schema as {
          properties: { code: { enum: string[] } };
        }
      ).properties.code.enum;
    expect(codes(paths['/orders']?.post, '400')).toEqual([
      'ORDER.CURRENCY_NOT_SUPPORTED',
      'REQUEST.INVALID',
      'REQUEST.MALFORMED_JSON',
    ]);
    expect(codes(paths['/orders']?.post, '422')).toEqual(['REQUEST.IDEMPOTENCY_KEY_REUSED']);
    expect(codes(paths['/orders/{id}/cancel']?.post, '409')).toEqual(['ORDER.ALREADY_FINISHED']);
    expect(codes(paths['/orders/{id}/cancel']?.post, '404')).toEqual(['ORDER.NOT_FOUND']);
  });
});
