// The chatbot endpoint agent B delivers to (OUTGOING_MESSAGE_ENDPOINT): answers 200 at once and records
// the arrival time of each message id on the bench's clock (performance.now()), so latency = arrival − scheduled send.
import { createServer } from 'node:http';

/** Starts the receiver on 127.0.0.1 and a free port. */
export async function startReceiver() {
  const arrivals = new Map();
  let duplicates = 0;
  let total = 0;
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      total += 1;
      try {
        const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (arrivals.has(id)) duplicates += 1;
        else arrivals.set(id, at);
      } catch {
        // not a DMR delivery: still answer, the count shows it
      }
      response.writeHead(200, { 'content-length': '0' }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/inbox`,
    arrivals,
    get duplicates() {
      return duplicates;
    },
    get total() {
      return total;
    },
    /** Waits until every id in `ids` arrived or `timeoutMs` passed; returns how many are missing. */
    async waitFor(ids, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      let missing = ids.filter((id) => !arrivals.has(id));
      while (missing.length > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        missing = missing.filter((id) => !arrivals.has(id));
      }
      return missing.length;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
