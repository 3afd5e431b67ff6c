/**
 * Per-chat order in front of the endpoint. The chat id is inside the encrypted payload, so only the
 * recipient agent can serialise by chat: messages are decrypted concurrently, but each takes its place in
 * its chat's lane in ARRIVAL order (the order RabbitMQ delivered them, which is the order the sender's
 * server published them), and a lane posts one message at a time.
 *
 * When a message fails with a transient error the server will deliver it again (it retries a delivery in
 * place, keeping its position in the queue), so its lane **parks**: later messages of the chat wait until the
 * same message arrives again (it then goes first) or until `holdMs` passes (it was dead-lettered: later ones
 * proceed without it).
 */

/** What a finished task means for its lane: `next` (delivered, or never coming back) or `park` (it will come back). */
export type LaneVerdict = 'next' | 'park';

/** Returned instead of a task's result when the sequencer closed before the task ran. */
export const CANCELLED: unique symbol = Symbol('cancelled');

/** Settings of a {@link ChatSequencer}. */
export interface SequencerSettings {
  /** How long a parked lane waits for its failed message to come back, ms (`DMR_CHAT_ORDER_HOLD_MS`). */
  readonly holdMs: number;
}

/** A place in arrival order, taken synchronously when a message arrives. */
export interface Ticket {
  /** Queues `task` in lane `chatKey` once every earlier ticket is admitted or cancelled; resolves with its result. */
  admit<T>(
    chatKey: string,
    messageKey: string,
    task: () => Promise<T>,
    verdictOf: (result: T) => LaneVerdict,
  ): Promise<T | typeof CANCELLED>;
  /** Gives the place up (the message never reached a lane, e.g. it could not be decrypted). Idempotent. */
  cancel(): void;
}

interface Entry {
  readonly messageKey: string;
  readonly run: () => Promise<LaneVerdict>;
  readonly cancel: () => void;
}

/** One chat's FIFO. */
class Lane {
  readonly #queue: Entry[] = [];
  #isRunning = false;
  #parked: { readonly messageKey: string; readonly timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly holdMs: number,
    private readonly onIdle: () => void,
  ) {}

  get isIdle(): boolean {
    return !this.#isRunning && !this.#parked && this.#queue.length === 0;
  }

  push(entry: Entry): void {
    if (this.#parked?.messageKey === entry.messageKey) {
      // the failed message is back: it goes first, ahead of everything that waited for it
      this.#unpark();
      this.#queue.unshift(entry);
    } else {
      this.#queue.push(entry);
    }
    this.#pump();
  }

  cancelQueued(): void {
    this.#unpark();
    for (const entry of this.#queue.splice(0)) entry.cancel();
  }

  #pump(): void {
    if (this.#isRunning || this.#parked) return;
    const entry = this.#queue.shift();
    if (!entry) {
      this.onIdle();
      return;
    }
    this.#isRunning = true;
    void entry.run().then((verdict) => {
      this.#isRunning = false;
      if (verdict === 'park') this.#park(entry.messageKey);
      this.#pump();
    });
  }

  #park(messageKey: string): void {
    const timer = setTimeout(() => {
      this.#parked = undefined;
      this.#pump();
    }, this.holdMs);
    // a parked lane alone must not keep a stopping process alive
    timer.unref();
    this.#parked = { messageKey, timer };
  }

  #unpark(): void {
    if (this.#parked) clearTimeout(this.#parked.timer);
    this.#parked = undefined;
  }
}

/** The lanes of every chat, and the arrival order that feeds them. */
export class ChatSequencer {
  readonly #settings: SequencerSettings;
  readonly #lanes = new Map<string, Lane>();
  #tail: Promise<void> = Promise.resolve();
  #isClosed = false;

  constructor(settings: SequencerSettings) {
    this.#settings = settings;
  }

  /** Takes the next place in arrival order. Call it synchronously when the message arrives. */
  ticket(): Ticket {
    const previous = this.#tail;
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tail = previous.then(() => mine);
    return {
      admit: async (chatKey, messageKey, task, verdictOf) => {
        await previous;
        try {
          return await this.#enqueue(chatKey, messageKey, task, verdictOf, release);
        } finally {
          release();
        }
      },
      cancel: () => release(),
    };
  }

  /** Lanes with work, running or parked (for tests and metrics). */
  get activeLanes(): number {
    return this.#lanes.size;
  }

  /** From now on nothing new runs: queued and future tasks resolve {@link CANCELLED}; running ones finish. */
  close(): void {
    this.#isClosed = true;
    for (const lane of this.#lanes.values()) lane.cancelQueued();
  }

  #enqueue<T>(
    chatKey: string,
    messageKey: string,
    task: () => Promise<T>,
    verdictOf: (result: T) => LaneVerdict,
    admitted: () => void,
  ): Promise<T | typeof CANCELLED> {
    if (this.#isClosed) return Promise.resolve(CANCELLED);
    return new Promise((resolve, reject) => {
      const run = async (): Promise<LaneVerdict> => {
        try {
          const result = await task();
          resolve(result);
          return verdictOf(result);
        } catch (error) {
          reject(error);
          return 'next';
        }
      };
      this.#laneOf(chatKey).push({ messageKey, run, cancel: () => resolve(CANCELLED) });
      // the place in arrival order is given up only once the entry is in its lane
      admitted();
    });
  }

  #laneOf(chatKey: string): Lane {
    let lane = this.#lanes.get(chatKey);
    if (!lane) {
      const created = new Lane(this.#settings.holdMs, () => {
        if (created.isIdle && this.#lanes.get(chatKey) === created) this.#lanes.delete(chatKey);
      });
      lane = created;
      this.#lanes.set(chatKey, lane);
    }
    return lane;
  }
}
