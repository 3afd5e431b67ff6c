import type { Channel, Message } from 'amqplib';

/** The part of an amqplib channel the batcher settles with. */
export type AckChannel = Pick<Channel, 'ack' | 'nack'>;

/**
 * Acknowledges the deliveries of one consumer channel in as few `basic.ack` frames as it safely can. Each ack is a
 * command the quorum queue appends to its Raft log; one `multiple` ack settles a run of deliveries in one.
 *
 * Every delivery must be {@link track}ed when it arrives, because `multiple` acks every unacknowledged delivery up
 * to its tag, tracked or not. Acks wait until the end of the event-loop turn. Then the longest run of settled
 * deliveries at the head of the channel's unacknowledged ones goes out as one `multiple` ack (or a plain ack for a
 * run of one), and every other settled delivery gets its own ack at once. So an ack never waits behind a delivery
 * still held (retried in place, or left for the channel's close), and no `multiple` ack ever covers one.
 * Unsent acks are lost with the channel like acks in transit are: RabbitMQ redelivers those messages, and the
 * recipient agent suppresses the duplicates. {@link flush} sends them before a deliberate close.
 */
export class AckBatcher {
  readonly #channel: AckChannel;
  // unacknowledged delivery tags in delivery order (tags increase on a channel) → settled yet?
  readonly #unacked = new Map<number, boolean>();
  #settledCount = 0;
  #flushPending: NodeJS.Immediate | undefined;

  constructor(channel: AckChannel) {
    this.#channel = channel;
  }

  /** Registers a delivery as it arrives. */
  track(delivery: Message): void {
    this.#unacked.set(delivery.fields.deliveryTag, false);
  }

  /** Acks `delivery` with the next flush (at the end of this event-loop turn). */
  ack(delivery: Message): void {
    const tag = delivery.fields.deliveryTag;
    if (this.#unacked.get(tag) !== false) return;
    this.#unacked.set(tag, true);
    this.#settledCount++;
    this.#flushPending ??= setImmediate(() => this.#flushQuietly());
  }

  /** Nacks `delivery` now (`requeue` as in `basic.nack`). Throws when the channel is closed, as amqplib does. */
  nack(delivery: Message, requeue: boolean): void {
    const tag = delivery.fields.deliveryTag;
    if (this.#unacked.get(tag) === true) this.#settledCount--;
    this.#unacked.delete(tag);
    this.#channel.nack(delivery, false, requeue);
  }

  /** Sends every pending ack now. Throws when the channel is closed, as amqplib does. */
  flush(): void {
    if (this.#flushPending) clearImmediate(this.#flushPending);
    this.#flushPending = undefined;
    if (this.#settledCount === 0) return;
    let runEnd: number | undefined;
    let runLength = 0;
    for (const [tag, isSettled] of this.#unacked) {
      if (!isSettled) break;
      runEnd = tag;
      runLength++;
      this.#unacked.delete(tag);
    }
    this.#settledCount -= runLength;
    if (runEnd !== undefined) this.#channel.ack(tagged(runEnd), runLength > 1);
    if (this.#settledCount === 0) return;
    for (const [tag, isSettled] of this.#unacked) {
      if (!isSettled) continue;
      this.#unacked.delete(tag);
      this.#channel.ack(tagged(tag), false);
    }
    this.#settledCount = 0;
  }

  #flushQuietly(): void {
    try {
      this.flush();
    } catch {
      // the channel closed meanwhile, which gave its unacknowledged messages back to the queue
    }
  }

  /** Deliveries tracked and not yet acked or nacked (acks waiting for the flush included). */
  get unackedCount(): number {
    return this.#unacked.size;
  }
}

/** amqplib's ack reads only `fields.deliveryTag`. */
function tagged(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}
