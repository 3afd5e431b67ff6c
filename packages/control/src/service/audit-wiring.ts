// dmr-control's audit component (DMR_AUDIT_WRITER=on): the writer consuming dmr.audit into the Merkle log, with a
// signing certificate issued at start by the agent CA of the ring, and the publisher of dmr-control's own change log.

import { DmrError, type Logger } from '@dmr/shared';
import { AuditAppender } from '../audit/index.js';
import { AuditStreamWriter, ChangeLogAuditPublisher } from '../audit-writer/index.js';
import { issueAuditSigner } from '../ca/index.js';
import { CaRingHolder } from '../enroll/index.js';
import { connectBroker } from '../migrate/index.js';
import { type ControlStore, openAuditLogStore } from '../store/index.js';
import type { ControlConfig } from './control-config.js';
import type { ControlMetrics } from './control-metrics.js';

/** The running audit component. */
export interface AuditComponent {
  stop(): Promise<void>;
}

/** Starts the writer and the change-log publisher when DMR_AUDIT_WRITER=on; undefined otherwise. */
export async function startAudit(
  config: ControlConfig,
  wiring: { store: ControlStore; log: Logger; metrics: ControlMetrics; instance: string },
): Promise<AuditComponent | undefined> {
  const broker = config.broker;
  if (!config.audit.isWriterOn || broker === undefined || config.caDir === undefined) return undefined;
  const log = wiring.log.child({ component: 'audit' });
  const ca = (await CaRingHolder.open(config.caDir)).signer('agents');
  if (ca === undefined)
    throw new DmrError('DMR_CONFIG_INVALID', 'DMR_AUDIT_WRITER=on needs an agent CA in DMR_CONTROL_CA_DIR to certify its signing key');
  const signer = await issueAuditSigner(ca.signer, wiring.instance);
  const auditStore = await openAuditLogStore(config.databaseUrl, { log });
  const appender = await AuditAppender.open(auditStore, signer, {
    everyEvents: config.audit.headEveryEvents,
    everyMs: config.audit.headEveryMs,
  });
  const { metrics } = wiring;
  const writer = new AuditStreamWriter({
    connect: () => connectBroker(broker),
    appender,
    store: auditStore,
    log,
    headEveryMs: config.audit.headEveryMs,
    metrics: {
      entriesAppended: (n) => metrics.auditEntriesTotal.inc(n),
      lag: (n) => metrics.auditWriterLag.set(n),
      events: (result, n) => metrics.auditWriterEventsTotal.inc({ result }, n),
    },
  });
  await writer.start();
  const publisher = new ChangeLogAuditPublisher({ store: wiring.store, auditStore, connect: () => connectBroker(broker), log });
  publisher.start();
  log.info({ size: appender.size, signedSize: appender.signedSize }, 'audit writer started');
  return {
    stop: async () => {
      await publisher.stop();
      await writer.stop();
      await auditStore.close();
    },
  };
}
