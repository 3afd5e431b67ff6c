// `dmrctl certs|servers|changes|policies …` through dmr-control's admin API. Declarations only; actions load
// api-actions.ts when they run.
import { Command, Option } from '@commander-js/extra-typings';
import { parseDuration, parseSince, parseWhole, withApiOptions } from './api-options.js';
import type { CliContext, CliIo } from './output.js';

const actions = () => import('./api-actions.js');

/**
 * The reasons `POST /v1/certificates/{serial}/revocation` takes (RFC 5280 CRLReason names): the offline CA's and the
 * two CA-compromise ones; never certificateHold (dmr-control does not un-revoke).
 */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

/** `dmrctl certs list|revoke`. */
export function certsCommand(io: CliIo, context: CliContext): Command {
  const list = withApiOptions(new Command('list').description('list the certificates dmr-control issued, with expiry and status'))
    .option(
      '--expiring-within <duration>',
      'only unrevoked ones whose notAfter is within this span (30d, 12h, …), expired ones included',
      parseDuration,
    )
    .option('--subject <id>', 'only certificates of this agent, server or person')
    .addOption(new Option('--kind <kind>', 'only certificates of this kind').choices(['agent', 'server', 'admin', 'relay-user'] as const))
    .addOption(new Option('--revoked', 'only revoked ones').conflicts(['unrevoked', 'expiringWithin']))
    .option('--unrevoked', 'only unrevoked ones')
    .action(async (flags) => (await actions()).listCertificates(io, context, flags));
  const revoke = withApiOptions(
    new Command('revoke')
      .description('revoke a certificate: every server drops its connections once the pushed CRL arrives')
      .argument('<serial>', 'serial number (hex, any of aa:bb, AABB, 0xaabb)'),
  )
    .addOption(
      new Option('--reason <reason>', "RFC 5280 reason (keyCompromise also revokes the subject's other certificates with the same key)")
        .choices(REVOCATION_REASONS)
        .makeOptionMandatory(),
    )
    .action(async (serial, flags) => (await actions()).revokeCertificate(io, context, serial, flags));
  return new Command('certs')
    .description('certificates issued by dmr-control (admin API; for the offline CA see "cert" and "revoke")')
    .addCommand(list)
    .addCommand(revoke);
}

/** `dmrctl servers list`. */
export function serversCommand(io: CliIo, context: CliContext): Command {
  const list = withApiOptions(
    new Command('list').description('DMR server instances: the configVersion each runs, its last sync; flags those behind the current one'),
  ).action(async (flags) => (await actions()).listServers(io, context, flags));
  return new Command('servers').description('DMR server instances as they report to dmr-control').addCommand(list);
}

/** `dmrctl changes list`. */
export function changesCommand(io: CliIo, context: CliContext): Command {
  const list = withApiOptions(new Command('list').description('the change log, oldest first (read only; auditor or admin certificate)'))
    .option('--since <time>', 'only entries from this time on: ISO 8601, or a span back from now (30m, 12h, 7d)', parseSince)
    .option('--subject-kind <kind>', 'only changes of this kind of record: agent, policy, certificate, route, …')
    .option('--subject-id <id>', 'only changes of this record')
    .option('--action <action>', 'only this action, e.g. agent.update, request.refused')
    .addOption(new Option('--outcome <outcome>', 'only applied changes or refused requests').choices(['applied', 'refused'] as const))
    .option('--limit <n>', 'at most this many entries (default: 100)', parseWhole(1), 100)
    .option('--all', 'every matching entry (all pages)')
    .action(async (flags) => (await actions()).listChanges(io, context, flags));
  return new Command('changes').description('who changed what, when (append-only)').addCommand(list);
}

/** `dmrctl policies list|get|push`. */
export function policiesCommand(io: CliIo, context: CliContext): Command {
  const list = withApiOptions(new Command('list').description('policy versions')).action(async (flags) =>
    (await actions()).listPolicies(io, context, flags),
  );
  const get = withApiOptions(
    new Command('get').description('one policy version and its document').argument('<version>', 'version', parseWhole(1)),
  ).action(async (version, flags) => (await actions()).getPolicy(io, context, version, flags));
  const push = withApiOptions(
    new Command('push')
      .description('store a policy document (YAML or JSON) as the next version (admin certificate)')
      .argument('<file>', 'the policy document: .json is read as JSON, anything else as YAML'),
  )
    .option('--comment <text>', 'why this version')
    .action(async (file, flags) => (await actions()).pushPolicy(io, context, file, flags));
  return new Command('policies')
    .description('versioned policy documents (dmr-policy/v1, docs/policy.md; check one offline with "dmrctl policy test")')
    .addCommand(list)
    .addCommand(get)
    .addCommand(push);
}
