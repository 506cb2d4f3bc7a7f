import { Controller, Get, Header } from '@nestjs/common';
import { Public, SkipRateLimit } from '@lib/platform';
import { CONSOLE_CSS } from './console.css';

/** The stylesheet, from the console itself: the pages work offline and the CSP allows nothing else. */
@Controller('assets')
@Public('the stylesheet of the sign-in page too; no data')
@SkipRateLimit()
export class AssetsController {
  @Get('console.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  stylesheet(): string {
    return CONSOLE_CSS;
  }
}
