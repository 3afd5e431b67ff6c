// Reads queues directly from RabbitMQ, the way an operator would, to check what is (and is not) stored there.
import amqp from 'amqplib';

/** A message as stored in a queue. */
export interface StoredMessage {
  readonly body: string;
  readonly headers: Record<string, unknown>;
}

/**
 * Waits until `queue` holds at least `count` messages, returns the first `count` and puts them back
 * (unacked messages return to the queue when the channel closes).
 */
export async function peekQueue(target: { amqpUrl: string }, queue: string, count: number, timeoutMs = 10_000): Promise<StoredMessage[]> {
  const connection = await amqp.connect(target.amqpUrl, { noDelay: true });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const channel = await connection.createChannel();
      const found: StoredMessage[] = [];
      while (found.length < count) {
        const message = await channel.get(queue, { noAck: false });
        if (!message) break;
        found.push({ body: message.content.toString('utf8'), headers: message.properties.headers ?? {} });
      }
      await channel.close();
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`queue ${queue} did not reach ${count} messages within ${timeoutMs} ms`);
  } finally {
    await connection.close();
  }
}
