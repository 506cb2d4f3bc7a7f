import { applyDecorators, Header } from '@nestjs/common';

/** A handler that answers a page: HTML, never kept by a browser or proxy (it shows live data). */
export const Page = () =>
  applyDecorators(
    Header('Content-Type', 'text/html; charset=utf-8'),
    Header('Cache-Control', 'no-store'),
  );
