import { type Logger, type SendAck, toDmrError } from '@dmr/shared';

/** An ack callback as Socket.IO hands it over: the only function an agent's packet can carry. */
export type AckCallback = (reply: SendAck) => void;

/** One event's arguments from an agent, split into the payload and the ack callback (if any). */
export interface EventArguments {
  /** The first argument (the message), whatever it is. */
  readonly message: unknown;
  /** The ack callback: Socket.IO always appends it last, so extra or misplaced arguments cannot pose as it. */
  readonly ack: AckCallback | undefined;
}

/**
 * Splits the arguments of an agent's event. Socket.IO passes them as the agent sent them (any number, any JSON or
 * binary value) plus the ack callback last when the agent asked for an ack, so the callback is taken from the end,
 * never from a fixed position an agent controls. Pure.
 */
export function splitEventArguments(args: readonly unknown[]): EventArguments {
  const last = args.length > 0 ? args[args.length - 1] : undefined;
  const ack = typeof last === 'function' ? (last as AckCallback) : undefined;
  return { message: ack && args.length === 1 ? undefined : args[0], ack };
}

/** Answers an ack without letting anything thrown inside Socket.IO escape the handler. */
export function answer(ack: AckCallback, reply: SendAck, log: Logger): void {
  try {
    ack(reply);
  } catch (error) {
    log.warn({ err: toDmrError(error) }, 'could not send an ack to the agent');
  }
}

/** Logs a failure of work started from a socket handler, so it is never an unhandled rejection (issue 15). */
export function logFailure(log: Logger, what: string, fields: Record<string, unknown> = {}): (error: unknown) => void {
  return (error) => log.error({ ...fields, err: toDmrError(error) }, `${what} failed unexpectedly`);
}
