import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { dump } from 'js-yaml';
import {
  DomainErrorClass,
  Permission,
  PUBLIC_METADATA,
  REFUSES_METADATA,
  REQUIRES_METADATA,
  Role,
  ROLE_PERMISSIONS,
  ROLES,
  idempotencyScopeOf,
  UUID_PARAM,
} from '@lib/platform';
import { ProductsController } from '../../apps/inventory/src/products/products.controller';
import { ReservationsController } from '../../apps/inventory/src/reservations/reservations.controller';
import { OrdersController } from '../../apps/order/src/orders/orders.controller';
import { SagaOperationsController } from '../../apps/order/src/saga-operations/saga-operations.controller';
import { PaymentsController } from '../../apps/payment/src/payments/payments.controller';
import { StripeWebhookController } from '../../apps/payment/src/webhooks/stripe-webhook.controller';
import { StrategiesController } from '../../apps/trading/src/strategies/strategies.controller';
import { AuditController } from '../../libs/platform/src/audit/audit.controller';
import { MetricsController } from '../../libs/platform/src/metrics/metrics.controller';
import { HealthController } from '../../libs/platform/src/health.controller';
import { ResponseSchemas } from './response-schemas';
import { JsonSchema, reachableSchemas, ruleSchemas } from './rule-schemas';

type Schemas = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>;

interface Operation {
  operationId?: string;
  description?: string;
  parameters?: {
    in: string;
    name?: string;
    required?: boolean;
    schema?: JsonSchema;
    [field: string]: unknown;
  }[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string; content?: unknown; $ref?: string }>;
  security?: Record<string, string[]>[];
  'x-permission'?: Permission | null;
}

/** What every app serves besides its own routes: probes, metrics and the audit trail. */
const PLATFORM_CONTROLLERS: Type[] = [HealthController, MetricsController, AuditController];

/** Each app's HTTP surface; every app also serves PLATFORM_CONTROLLERS. */
export const HTTP_APPS: Record<string, Type[]> = {
  order: [OrdersController, SagaOperationsController],
  payment: [PaymentsController, StripeWebhookController],
  inventory: [ProductsController, ReservationsController],
  trading: [StrategiesController],
};

const ROOT = join(__dirname, '..', '..');

/** The controllers' sources, for the compiler to read what their handlers return. */
function controllerFiles(): string[] {
  return ['apps', 'libs/platform/src'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.controller.ts'))
      .map((file) => join(ROOT, dir, file)),
  );
}

/** One compiler program for every document: building it is most of the cost. */
let responseSchemas: ResponseSchemas | undefined;

/**
 * The OpenAPI document of one app, from its controllers as Nest routes them. Request schemas come
 * from the class-validator rules the app enforces, response schemas from the types the handlers
 * return (response-schemas.ts), errors from what the platform and each handler's `@Refuses` answer:
 * the document cannot promise other rules or shapes than the code has.
 */
export async function openApi(app: string): Promise<string> {
  const controllers = [...HTTP_APPS[app]!, ...PLATFORM_CONTROLLERS];
  const module = await Test.createTestingModule({
    controllers,
  })
    .useMocker(() => ({}))
    .compile();
  const nest = module.createNestApplication({ logger: false });
  const document: OpenAPIObject = SwaggerModule.createDocument(
    nest,
    new DocumentBuilder()
      .setTitle(`${app} API`)
      .setDescription(
        'Generated from the controllers by `npm run docs:generate`; do not edit. Errors are JSON `{ statusCode, code, message }`. ' +
          'Every operation but the public ones needs `Authorization: Bearer <jwt>`; its `x-permission` names the permission the roles of the token must grant (docs/security.md).',
      )
      .setVersion('0.1.0')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT with `sub`, `roles` and optionally `tenantId`, signed by the identity provider (JWKS) or, in development, with AUTH_JWT_SECRET (`npm run cli -- token`).',
        },
        'bearer',
      )
      .build(),
  );
  await nest.close();
  const rules = ruleSchemas();
  // Swagger names the request classes; their schemas are replaced by the rules they are checked by.
  const components = (document.components ??= {});
  components.schemas = {
    ...components.schemas,
    ...(reachableSchemas(rules, Object.keys(components.schemas ?? {})) as Schemas),
  };
  responseSchemas ??= new ResponseSchemas(controllerFiles());
  annotateRequests(components.schemas, responseSchemas);
  addDtoParameters(document, controllers, rules);
  addUuidParameters(document, controllers);
  addAccess(document, controllers);
  addIdempotencyKeys(document, controllers);
  addAnswers(document, controllers, responseSchemas);
  addErrors(document, controllers, responseSchemas.errorCodes());
  // Nest marks every @Headers() parameter required; the handlers check the ones they read themselves.
  for (const operation of operationsById(document).values()) {
    for (const parameter of operation.parameters ?? [])
      if (parameter.in === 'header') parameter.required = false;
  }
  return `# Generated by \`npm run docs:generate\`; do not edit.\n${dump(document, { lineWidth: 120, noRefs: true, sortKeys: true })}`;
}

const ROUTE_ARGS = '__routeArguments__';
const IN: Record<number, 'query' | 'path'> = {
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.PARAM]: 'path',
};

/**
 * `@Query() dto` and `@Param() dto` are validated whole by class-validator, which swagger cannot
 * see: each property of such a class becomes a parameter, with the class's rules.
 */
function addDtoParameters(
  document: OpenAPIObject,
  controllers: Type[],
  rules: Record<string, unknown>,
): void {
  const operations = operationsById(document);
  for (const controller of controllers) {
    const prototype = controller.prototype as object;
    for (const method of Object.getOwnPropertyNames(prototype)) {
      const args = (Reflect.getMetadata(ROUTE_ARGS, controller, method) ?? {}) as Record<
        string,
        { index: number; data?: unknown }
      >;
      const types = (Reflect.getMetadata('design:paramtypes', prototype, method) ?? []) as Type[];
      const operation = operations.get(`${controller.name}_${method}`);
      for (const [key, { index, data }] of Object.entries(args)) {
        const where = IN[Number(key.split(':')[0])];
        const dto = types[index];
        const schema =
          dto &&
          (rules[dto.name] as
            { properties: Record<string, unknown>; required?: string[] } | undefined);
        if (!where || data !== undefined || !schema || !operation) continue;
        operation.parameters = [
          ...(operation.parameters ?? []).filter((p) => p.in !== where),
          ...Object.entries(schema.properties).map(([name, property]) => ({
            in: where,
            name,
            required: where === 'path' || (schema.required ?? []).includes(name),
            schema: property as JsonSchema,
          })),
        ];
      }
    }
  }
}

/** Operations whose handler takes `@IdempotencyKey()`: the optional header, which swagger cannot see. */
function addIdempotencyKeys(document: OpenAPIObject, controllers: Type[]): void {
  const operations = operationsById(document);
  for (const controller of controllers) {
    for (const method of Object.getOwnPropertyNames(controller.prototype as object)) {
      const args = (Reflect.getMetadata(ROUTE_ARGS, controller, method) ?? {}) as Record<
        string,
        { factory?: unknown }
      >;
      const operation = operations.get(`${controller.name}_${method}`);
      if (!operation || !Object.values(args).some((a) => a.factory === idempotencyScopeOf))
        continue;
      operation.parameters = [
        ...(operation.parameters ?? []),
        {
          in: 'header',
          name: 'Idempotency-Key',
          required: false,
          description:
            'Retries with the same key answer the first answer, once, for 24 h; keys are scoped by tenant, principal and route; another request under the key is 422.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
      ];
    }
  }
}

/** Swagger's operations by id (`<Controller>_<method>`, the default operationId). */
function operationsById(document: OpenAPIObject): Map<string | undefined, Operation> {
  return new Map(
    Object.values(document.paths).flatMap((path) =>
      Object.values(path as Record<string, Operation>).map((op) => [op.operationId, op] as const),
    ),
  );
}

const ERROR_CONTENT = {
  'application/json': { schema: { $ref: '#/components/schemas/Error' } },
};

/** The answers of the guard, the repositories' scoping and the rate limiter. */
const ACCESS_RESPONSES = {
  Unauthenticated: {
    description:
      '`AUTH.UNAUTHENTICATED`: no bearer token, or one that does not verify (signature, issuer, audience, expiry).',
    headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Bearer' } } },
    content: ERROR_CONTENT,
  },
  Forbidden: {
    description: "`AUTH.FORBIDDEN`: the token's roles do not grant the operation's `x-permission`.",
    content: ERROR_CONTENT,
  },
  NotFound: {
    description:
      "Not found, or not the caller's: another tenant's (or another customer's) resource answers 404, never 403.",
    content: ERROR_CONTENT,
  },
  RateLimited: {
    description: '`RATE.LIMITED`: over the rate limit of the principal or the address.',
    headers: { 'Retry-After': { schema: { type: 'integer', description: 'seconds' } } },
    content: ERROR_CONTENT,
  },
};

/**
 * Who may call each operation, read from the metadata the guard enforces (`@Public`,
 * `@Requires`): public ones need no security; the others the bearer scheme, their permission as
 * `x-permission` and in the description (with the roles that grant it), and the guard's errors.
 */
function addAccess(document: OpenAPIObject, controllers: Type[]): void {
  const components = (document.components ??= {});
  components.schemas = {
    ...components.schemas,
    Error: {
      type: 'object',
      required: ['statusCode', 'code', 'message'],
      properties: {
        statusCode: { type: 'integer', example: 403 },
        code: { type: 'string', example: 'AUTH.FORBIDDEN' },
        message: { type: 'string' },
      },
    },
  };
  components.responses = { ...components.responses, ...ACCESS_RESPONSES };
  const ref = (name: keyof typeof ACCESS_RESPONSES) => ({ $ref: `#/components/responses/${name}` });
  const operations = operationsById(document);
  for (const controller of controllers) {
    const prototype = controller.prototype as Record<string, unknown>;
    for (const method of Object.getOwnPropertyNames(prototype)) {
      const operation = operations.get(`${controller.name}_${method}`);
      if (!operation) continue;
      // As the guard reads them: the handler's metadata first, then the controller's.
      const metadata = <T>(key: string) =>
        (Reflect.getMetadata(key, prototype[method] as object) ??
          Reflect.getMetadata(key, controller)) as T | undefined;
      const publicReason = metadata<string>(PUBLIC_METADATA);
      const permission = metadata<Permission>(REQUIRES_METADATA);
      const access =
        publicReason !== undefined
          ? `Public (no token): ${publicReason}.`
          : permission
            ? `Requires the \`${permission}\` permission (roles: ${rolesGranting(permission).join(', ') || 'none'}).`
            : 'Declares no permission: the guard refuses it to every caller.';
      operation.description = [operation.description, access].filter(Boolean).join('\n\n');
      if (publicReason !== undefined) {
        operation.security = [];
        continue;
      }
      operation.security = [{ bearer: [] }];
      operation['x-permission'] = permission ?? null;
      operation.responses = {
        '401': ref('Unauthenticated'),
        '403': ref('Forbidden'),
        '404': ref('NotFound'),
        '429': ref('RateLimited'),
        ...operation.responses,
      };
    }
  }
}

function rolesGranting(permission: Permission): Role[] {
  return ROLES.filter((role) => ROLE_PERMISSIONS[role].includes(permission));
}

/** Each handler's return type as its success answer's schema (its named types as components). */
function addAnswers(document: OpenAPIObject, controllers: Type[], schemas: ResponseSchemas): void {
  const components = (document.components ??= {});
  const named: Record<string, JsonSchema> = {};
  for (const [operationId, operation] of operationsOf(document, controllers)) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      // Swagger knows the content of a few (terminus' health check): those stay.
      if (!status.startsWith('2') || response.content) continue;
      const { schema, mediaType } = schemas.answerOf(operationId, named);
      response.description = SUCCESS[status] ?? 'Success';
      response.content = { [mediaType]: { schema } };
    }
  }
  components.schemas = { ...components.schemas, ...(named as Schemas) };
}

const SUCCESS: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };

/** Descriptions and examples from the request classes' comments, added to their rule schemas. */
function annotateRequests(schemas: Schemas | undefined, responseSchemas: ResponseSchemas): void {
  for (const [name, annotations] of responseSchemas.requestAnnotations()) {
    const schema = schemas?.[name] as { properties?: Record<string, JsonSchema> } | undefined;
    for (const [property, annotation] of Object.entries(annotations)) {
      const rule = schema?.properties?.[property];
      // The rules decide the type: a comment adds words and an example, never a constraint.
      if (rule) Object.assign(rule, { ...annotation, ...rule, type: rule.type ?? annotation.type });
    }
  }
}

/** `@Param('id', UUID_PARAM)`: the pipe refuses anything but a UUID, which swagger cannot see. */
function addUuidParameters(document: OpenAPIObject, controllers: Type[]): void {
  for (const [, operation, controller, method] of operationsOf(document, controllers)) {
    const args = (Reflect.getMetadata(ROUTE_ARGS, controller, method) ?? {}) as Record<
      string,
      { data?: unknown; pipes?: unknown[] }
    >;
    for (const [key, { data, pipes }] of Object.entries(args)) {
      if (IN[Number(key.split(':')[0])] !== 'path' || !pipes?.includes(UUID_PARAM)) continue;
      const parameter = operation.parameters?.find((p) => p.in === 'path' && p.name === data);
      if (parameter) parameter.schema = { type: 'string', format: 'uuid' };
    }
  }
}

/** What a status means beside the codes answered with it. */
const ERROR_TEXT: Record<string, string> = {
  '400': 'the request broke a rule; `message` names every problem.',
  '404':
    "Not found, or not the caller's: another tenant's (or customer's) resource answers 404, never 403.",
  '409': 'the resource is not in a state that allows it.',
  '413': 'the body is over the limit (64 KB; 1 MB under /webhooks/).',
  '415': 'the body is not `application/json`.',
  '422': 'the Idempotency-Key was used for another request; nothing was done.',
};

/**
 * Every error an operation may answer, each status with the codes it carries (the `code` of
 * `Error` narrowed to them): bad input wherever there is input, the body's limits wherever there
 * is a body, Idempotency-Key reuse wherever a key is taken, and the handler's `@Refuses`.
 */
function addErrors(
  document: OpenAPIObject,
  controllers: Type[],
  errorCodes: Map<string, { code: string; status: number }>,
): void {
  for (const [, operation, controller, method] of operationsOf(document, controllers)) {
    const codes = new Map<string, Set<string>>();
    const add = (status: number, code: string) =>
      codes.set(String(status), (codes.get(String(status)) ?? new Set()).add(code));
    const hasBody = operation.requestBody !== undefined;
    const parameters = operation.parameters ?? [];
    if (hasBody || parameters.some((p) => p.in === 'path' || p.in === 'query'))
      add(400, 'REQUEST.INVALID');
    if (hasBody) {
      add(400, 'REQUEST.MALFORMED_JSON');
      add(413, 'REQUEST.TOO_LARGE');
      add(415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
    }
    if (parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'))
      add(422, 'REQUEST.IDEMPOTENCY_KEY_REUSED');
    const handler = (controller.prototype as Record<string, object>)[method]!;
    for (const error of (Reflect.getMetadata(REFUSES_METADATA, handler) ??
      []) as DomainErrorClass[]) {
      const declared = errorCodes.get(error.name);
      if (!declared) throw new Error(`@Refuses(${error.name}): no code and status declared`);
      add(declared.status, declared.code);
    }
    const responses = (operation.responses ??= {});
    for (const [status, set] of codes) {
      const list = [...set].sort();
      responses[status] = {
        description: [list.map((code) => `\`${code}\``).join(', '), ERROR_TEXT[status]]
          .filter(Boolean)
          .join(': '),
        content: {
          'application/json': {
            schema: {
              allOf: [{ $ref: '#/components/schemas/Error' }],
              properties: { code: { type: 'string', enum: list } },
            },
          },
        },
      };
    }
  }
}

/** Every operation of the document with its id, controller and handler name. */
function operationsOf(
  document: OpenAPIObject,
  controllers: Type[],
): [string, Operation, Type, string][] {
  const operations = operationsById(document);
  return controllers.flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype as object).flatMap((method) => {
      const operationId = `${controller.name}_${method}`;
      const operation = operations.get(operationId);
      return operation ? [[operationId, operation, controller, method] as const] : [];
    }),
  ) as [string, Operation, Type, string][];
}
