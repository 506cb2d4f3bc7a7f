import { asyncApi, catalogue } from './event-docs';
import { HTTP_APPS, openApi } from './openapi';

/** Every generated document and how to make it; a spec compares each with the committed file. */
export const GENERATED: Record<string, () => string | Promise<string>> = {
  'docs/events/asyncapi.yaml': asyncApi,
  'docs/events/catalogue.md': catalogue,
  ...Object.fromEntries(
    Object.keys(HTTP_APPS).map((app) => [`docs/api/${app}.openapi.yaml`, () => openApi(app)]),
  ),
};
