import { load } from 'js-yaml';
import { HTTP_APPS, openApi } from './openapi';

interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  'x-permission'?: string | null;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, { required?: string[] }>;
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
});
