import { createServer } from 'node:http';

/*
 * A collector for benchmarks, in a process of its own so its work is not timed: takes what the
 * OTLP/HTTP exporters send to /v1/traces, counts it and drops it. Prints one JSON line on SIGTERM.
 */
const port = Number(process.argv[2]);
let requests = 0;
let bytes = 0;
const server = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => (bytes += chunk.length));
  request.on('end', () => {
    requests++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  process.exit(0);
});
