import { clientTypes } from './client-types';
import { asyncApi, catalogue } from './event-docs';
import { HTTP_APPS, openApi } from './openapi';

/** Each app's OpenAPI document, made once: its client's types are generated from it. */
const documents = new Map<string, Promise<string>>();
const documentOf = (app: string): Promise<string> => {
  let document = documents.get(app);
  if (!document) documents.set(app, (document = openApi(app)));
  return document;
};

/** Every generated document and how to make it; a spec compares each with the committed file. */
export const GENERATED: Record<string, () => string | Promise<string>> = {
  'docs/events/asyncapi.yaml': asyncApi,
  'docs/events/catalogue.md': catalogue,
  ...Object.fromEntries(
    Object.keys(HTTP_APPS).flatMap((app) => [
      [`docs/api/${app}.openapi.yaml`, () => documentOf(app)],
      [`libs/client/src/generated/${app}.ts`, async () => clientTypes(app, await documentOf(app))],
    ]),
  ),
};
