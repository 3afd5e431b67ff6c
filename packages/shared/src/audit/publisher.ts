// Publishing audit events to the dmr.audit stream with publisher confirms. No amqplib here (shared has no I/O): the
// caller hands over its confirm channel, which this module sees through the small port below.

import { DmrError } from '../errors.js';
import { AUDIT_STREAM, type AuditEvent, validateAuditEvent } from './event.js';

/** The part of an amqplib ConfirmChannel the publisher uses. */
export interface AuditConfirmChannel {
  assertQueue(queue: string, options: { durable: boolean; arguments: Record<string, unknown> }): Promise<unknown>;
  sendToQueue(
    queue: string,
    content: Buffer,
    options: { persistent: boolean; messageId: string; contentType: string; timestamp: number; type: string },
    callback: (error: unknown) => void,
  ): boolean;
}

/** The arguments `dmr.audit` is declared with: a stream queue (design.md). */
export const AUDIT_STREAM_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({ 'x-queue-type': 'stream' });

/** Declares the `dmr.audit` stream queue (idempotent; a queue declared with other arguments fails the channel). */
export async function assertAuditStream(channel: Pick<AuditConfirmChannel, 'assertQueue'>): Promise<void> {
  await channel.assertQueue(AUDIT_STREAM, { durable: true, arguments: { ...AUDIT_STREAM_ARGUMENTS } });
}

/**
 * Validates `event` and publishes it to `dmr.audit`; resolves once the broker confirmed it.
 *
 * @throws DmrError DMR_AUDIT_EVENT_INVALID for an event outside the schema (nothing is published);
 * DMR_AUDIT_PUBLISH_FAILED when the broker nacks or the channel closes before the confirm.
 */
export function publishAuditEvent(channel: AuditConfirmChannel, event: AuditEvent): Promise<void> {
  const checked = validateAuditEvent(event);
  if (!checked.ok) {
    const detail = checked.errors.map((e) => `${e.path || '(event)'} ${e.message}`).join('; ');
    return Promise.reject(new DmrError('DMR_AUDIT_EVENT_INVALID', `audit event refused: ${detail}`));
  }
  const body = Buffer.from(JSON.stringify(checked.value));
  const options = {
    persistent: true,
    messageId: event.eventId,
    contentType: 'application/json',
    timestamp: Date.parse(event.at),
    type: event.kind,
  };
  return new Promise((resolve, reject) => {
    channel.sendToQueue(AUDIT_STREAM, body, options, (error) => {
      if (error === null || error === undefined) resolve();
      else reject(new DmrError('DMR_AUDIT_PUBLISH_FAILED', `audit event ${event.eventId} was not confirmed`, { cause: error }));
    });
  });
}
