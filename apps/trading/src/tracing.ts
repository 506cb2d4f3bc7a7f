// main.ts imports this first: OpenTelemetry must patch http, express and pg before they load.
import { startTracing } from '@lib/observability';

startTracing('trading');
