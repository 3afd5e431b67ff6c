// Reads queues directly from RabbitMQ, the way an operator would, to check what is (and is not) stored there.
import amqp, { type Channel, type ConsumeMessage } from 'amqplib';

/** A message as stored in a queue. */
export interface StoredMessage {
  readonly body: string;
  readonly headers: Record<string, unknown>;
}

/**
 * Waits until `queue` yields `count` messages and returns them without removing them: they are consumed
 * unacked and go back to the queue when the channel closes. A consumer, not basic.get, because quorum queues
 * with single active consumer refuse basic.get.
 */
export async function peekQueue(target: { amqpUrl: string }, queue: string, count: number, timeoutMs = 10_000): Promise<StoredMessage[]> {
  const connection = await amqp.connect(target.amqpUrl, { noDelay: true });
  const channel: Channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.prefetch(count);
    const found: StoredMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`queue ${queue} gave ${found.length} of ${count} messages within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (message: ConsumeMessage | null): void => {
        if (!message) return;
        found.push({ body: message.content.toString('utf8'), headers: message.properties.headers ?? {} });
        if (found.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      };
      channel.consume(queue, onMessage, { noAck: false }).catch((error: unknown) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return found;
  } finally {
    await channel.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
  }
}

/** How many messages `queue` holds ready right now (AMQP queue.declare passive); the queue must exist. */
export async function queueDepth(target: { amqpUrl: string }, queue: string): Promise<number> {
  const connection = await amqp.connect(target.amqpUrl, { noDelay: true });
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
