import { agentQueueName, DmrError, type Logger, MESSAGES_EXCHANGE } from '@dmr/shared';
import type { Channel, Options } from 'amqplib';

/** Marks a publish RabbitMQ answered with `basic.nack` (as opposed to a lost channel or a timeout). */
export class BrokerNack extends Error {
  constructor() {
    super('RabbitMQ nacked the publish');
    this.name = 'BrokerNack';
  }
}

/** True for the error amqplib passes to a confirm callback on `basic.nack` (its wording, translated here at the edge). */
export function isNackFromAmqplib(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}

/** True when `error` is a failed publish that RabbitMQ nacked. */
export function isBrokerNack(error: unknown): boolean {
  return error instanceof DmrError && error.cause instanceof BrokerNack;
}

/** The publish side of the broker connection, and a channel for the queue-depth check. */
export interface PublishPort {
  publish(exchange: string, routingKey: string, content: Buffer, options?: Options.Publish): Promise<void>;
  openChannel(): Promise<Channel>;
}

/**
 * Tells a full recipient queue apart from other publish failures. Agent queues carry `max-length` with
 * `overflow: reject-publish` (policy `dmr-agent-queues`); RabbitMQ then nacks the publish without saying why. On a nack
 * to an agent queue this asks the queue's depth (passive declare; ready messages are what the quorum queue's
 * limit counts) and, when it is at the limit, fails with DMR_ROUTE_QUEUE_FULL instead of DMR_ROUTE_PUBLISH_FAILED.
 * Costs one round trip on the failure path only.
 */
export class QueueFullTranslator {
  #channel: Promise<Channel> | undefined;

  constructor(
    private readonly broker: PublishPort,
    private readonly maxQueueLength: number,
    private readonly log: Logger,
  ) {}

  /** {@link PublishPort.publish}, with a nack on a full agent queue failing as DMR_ROUTE_QUEUE_FULL. */
  async publish(exchange: string, routingKey: string, content: Buffer, options?: Options.Publish): Promise<void> {
    try {
      await this.broker.publish(exchange, routingKey, content, options);
    } catch (error) {
      if (this.maxQueueLength > 0 && exchange === MESSAGES_EXCHANGE && isBrokerNack(error) && (await this.#isFull(routingKey))) {
        throw new DmrError(
          'DMR_ROUTE_QUEUE_FULL',
          `the recipient's queue holds its maximum of ${this.maxQueueLength} messages (RABBITMQ_MAX_QUEUE_LENGTH); nothing was queued, retry later`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async #isFull(recipientId: string): Promise<boolean> {
    try {
      this.#channel ??= this.#open();
      const { messageCount } = await (await this.#channel).checkQueue(agentQueueName(recipientId));
      return messageCount >= this.maxQueueLength;
    } catch (error) {
      // a failed passive declare closes the channel: open a fresh one next time
      this.#channel = undefined;
      this.log.warn({ err: error }, 'could not read the depth of a queue that refused a publish');
      return false;
    }
  }

  async #open(): Promise<Channel> {
    const channel = await this.broker.openChannel();
    channel.once('close', () => {
      this.#channel = undefined;
    });
    return channel;
  }
}
