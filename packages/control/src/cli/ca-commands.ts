import { Command, Option } from '@commander-js/extra-typings';
import { parseRevocationReason } from '../ca/ca-state.js';
import { parseDays, parseKeyType, parsePurpose, parseReason } from './options.js';
import { type CliIo, formatFields, formatIssued, loadCa } from './output.js';

/** `dmrctl ca init`: create a CA directory. */
export function caCommand(io: CliIo): Command {
  const init = new Command('init')
    .description('create a CA: ca.key.pem (0600), ca.cert.pem (0644), ca-state.json (0600); never replaces one')
    .requiredOption('--dir <dir>', 'CA directory (created 0700 when missing)')
    .requiredOption('--cn <name>', 'subject CN of the root certificate')
    .option('--key-type <type>', 'ec-p256 (default) or rsa-3072', parseKeyType)
    .option(
      '--purpose <purpose>',
      'agents (default: DMR server and agent certificates) or broker (RabbitMQ listener and relay-user certificates; the only CA RabbitMQ trusts)',
      parsePurpose,
    )
    .option('--days <n>', 'validity in days (default: 3650)', parseDays)
    .action(async (flags) => {
      const { initCa } = await loadCa();
      const issued = await initCa({
        dir: flags.dir,
        commonName: flags.cn,
        ...(flags.purpose === undefined ? {} : { purpose: flags.purpose }),
        ...(flags.keyType === undefined ? {} : { keyType: flags.keyType }),
        ...(flags.days === undefined ? {} : { validityDays: flags.days }),
      });
      io.out(formatIssued(`created ${flags.purpose ?? 'agents'} CA in ${flags.dir}`, issued));
    });
  return new Command('ca').description('manage the certificate authority').addCommand(init);
}

/** `dmrctl revoke`: revoke one serial or every certificate of an agent. */
export function revokeCommand(io: CliIo): Command {
  return new Command('revoke')
    .description('revoke a certificate by serial, or every unrevoked certificate of an agent; then run "dmrctl crl"')
    .requiredOption('--dir <dir>', 'CA directory')
    .addOption(new Option('--serial <hex>', 'serial number (hex, any of aa:bb, AABB, 0xaabb)').conflicts('agentId'))
    .addOption(new Option('--agent-id <id>', 'agent id: revokes all its unrevoked certificates'))
    .option(
      '--reason <reason>',
      'RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn',
      parseReason,
    )
    .action(async (flags, command) => {
      if (flags.serial === undefined && flags.agentId === undefined)
        command.error('error: one of --serial or --agent-id is required', { exitCode: 2 });
      const target = flags.serial !== undefined ? { serial: flags.serial } : { agentId: flags.agentId ?? '' };
      const reason = flags.reason ?? parseRevocationReason('unspecified');
      const { revokeCertificates } = await loadCa();
      const records = await revokeCertificates(flags.dir, target, reason);
      const lines = records.map((record) => [record.serial, `${record.kind} ${record.commonName}`] as const);
      io.out(
        `revoked ${records.length} certificate(s), reason ${reason}; publish with "dmrctl crl --dir ${flags.dir}"\n${formatFields(lines)}`,
      );
    });
}

/** `dmrctl crl`: publish the CRL. */
export function crlCommand(io: CliIo): Command {
  return new Command('crl')
    .description('sign and write the CRL (PEM "X509 CRL", replaced atomically, 0644); republish before nextUpdate')
    .requiredOption('--dir <dir>', 'CA directory')
    .option('--out <file>', 'CRL file (default: <dir>/crl.pem)')
    .option('--days <n>', 'days until nextUpdate (default: 7)', parseDays)
    .action(async (flags) => {
      const { publishCrl } = await loadCa();
      const crl = await publishCrl(flags.dir, {
        ...(flags.out === undefined ? {} : { outPath: flags.out }),
        ...(flags.days === undefined ? {} : { nextUpdateDays: flags.days }),
      });
      const fields = [
        ['file', `${crl.path} (0644)`],
        ['CRL number', String(crl.crlNumber)],
        ['revoked', String(crl.revokedCount)],
        ['thisUpdate', crl.thisUpdate.toISOString()],
        ['nextUpdate', crl.nextUpdate.toISOString()],
      ] as const;
      io.out(`published CRL\n${formatFields(fields)}`);
    });
}
