import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Body, Controller, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import { serveOrders } from './order-front';

/*
 * POST /orders with nothing behind it, on one HTTP stack (FRONT: node, express, nest-express or
 * nest-fastify; PORT): `{ items: [{ sku, quantity }] }` in, 201 `{ orderId }` out. What the stack
 * alone costs per request (http-front.ts measures it). `node` is the peers' own front.
 */
interface PlacedOrder {
  items?: { sku?: string; quantity?: number }[];
}

const placed = (body: PlacedOrder) => ({ orderId: randomUUID(), sku: body.items?.[0]?.sku });

@Controller()
class OrdersController {
  @Post('orders')
  place(@Body() body: PlacedOrder) {
    return placed(body);
  }
}

@Module({ controllers: [OrdersController] })
class FrontModule {}

async function serve(front: string, port: number): Promise<void> {
  switch (front) {
    case 'node':
      return serveOrders(port, async () => {});
    case 'express': {
      const app = express();
      app.use(express.json());
      app.post('/orders', (request, response) => {
        response.status(201).json(placed(request.body as PlacedOrder));
      });
      await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', () => resolve()));
      return;
    }
    case 'nest-express':
      await (await NestFactory.create(FrontModule, { logger: false })).listen(port, '127.0.0.1');
      return;
    case 'nest-fastify':
      await (
        await NestFactory.create(FrontModule, new FastifyAdapter(), { logger: false })
      ).listen(port, '127.0.0.1');
      return;
    default:
      throw new Error(`FRONT takes node, express, nest-express or nest-fastify, not ${front}`);
  }
}

serve(process.env.FRONT ?? '', Number(process.env.PORT)).then(
  () => process.stdout.write('ready\n'),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
