import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { OrderLine } from './order.store';

/**
 * A peer's POST /orders: `{ items: [{ sku, quantity }] }` as the platform takes it, answered with
 * 201 `{ orderId }` once `startSaga` says the saga is durably started. Plain node:http: no token,
 * no validation library, no rate limits (the platform's edge does all three).
 */
export function serveOrders(
  port: number,
  startSaga: (line: OrderLine) => Promise<void>,
): Promise<void> {
  const server = createServer((request, response) => {
    void placeOrder(request, response, startSaga);
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

async function placeOrder(
  request: IncomingMessage,
  response: ServerResponse,
  startSaga: (line: OrderLine) => Promise<void>,
): Promise<void> {
  const answer = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  try {
    if (request.method !== 'POST' || request.url !== '/orders') return answer(404, {});
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      items?: { sku?: unknown; quantity?: unknown }[];
    };
    const item = body.items?.[0];
    if (typeof item?.sku !== 'string' || typeof item.quantity !== 'number') {
      return answer(400, { message: 'items: one { sku, quantity }' });
    }
    const orderId = randomUUID();
    await startSaga({ orderId, sku: item.sku, quantity: item.quantity });
    answer(201, { orderId });
  } catch (error) {
    answer(500, { message: error instanceof Error ? error.message : String(error) });
  }
}
