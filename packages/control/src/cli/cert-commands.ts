import { Command } from '@commander-js/extra-typings';
import type { IssueOptions, KeyType, ServerNames } from '../ca/index.js';
import { ADMIN_ROLES } from '../domain/roles.js';
import { parseDays, parseKeyType, parseList, parseRole } from './options.js';
import { type CliIo, formatIssued, formatSummary, loadCa, readInputFile } from './output.js';

interface LeafFlags {
  readonly dir: string;
  readonly out: string;
  readonly name?: string;
  readonly keyType?: KeyType;
  readonly days?: number;
  readonly publicKey?: string;
}

interface ServerFlags extends LeafFlags {
  readonly dns?: string[];
  readonly ip?: string[];
  readonly cn?: string;
}

/** Options shared by every `cert` subcommand that issues. */
function leafCommand(name: string, description: string, defaultName: string) {
  return new Command(name)
    .description(description)
    .requiredOption('--dir <dir>', 'CA directory')
    .requiredOption('--out <dir>', 'output directory for <name>.cert.pem (0644) and <name>.key.pem (0600); created 0700')
    .option('--name <name>', `file base name (default: ${defaultName})`)
    .option('--public-key <file>', 'PEM public key or CSR of a key pair made elsewhere: no private key is generated or written')
    .option('--key-type <type>', 'type of a generated key: ec-p256 (default) or rsa-3072', parseKeyType)
    .option('--days <n>', 'validity in days (default: 397)', parseDays);
}

async function issueOptions(flags: LeafFlags): Promise<IssueOptions> {
  return {
    outDir: flags.out,
    ...(flags.name === undefined ? {} : { name: flags.name }),
    ...(flags.keyType === undefined ? {} : { keyType: flags.keyType }),
    ...(flags.days === undefined ? {} : { validityDays: flags.days }),
    ...(flags.publicKey === undefined ? {} : { publicKeyPem: await readInputFile(flags.publicKey) }),
  };
}

function serverNames(flags: ServerFlags): ServerNames {
  return { dnsNames: flags.dns ?? [], ipAddresses: flags.ip ?? [], ...(flags.cn === undefined ? {} : { commonName: flags.cn }) };
}

function serverCommand(io: CliIo, kind: 'server' | 'rabbitmq-server') {
  const label = kind === 'server' ? 'DMR server' : 'RabbitMQ TLS listener';
  return leafCommand(kind, `issue a ${label} certificate (SAN DNS/IP, EKU serverAuth)`, kind)
    .option('--dns <names>', 'DNS names for the SAN, comma-separated (repeatable)', parseList)
    .option('--ip <addresses>', 'IP addresses for the SAN, comma-separated (repeatable)', parseList)
    .option('--cn <name>', 'subject CN (default: the first DNS name or IP)')
    .action(async (flags) => {
      const ca = await loadCa();
      const issue = kind === 'server' ? ca.issueServerCertificate : ca.issueRabbitmqServerCertificate;
      const issued = await issue(flags.dir, serverNames(flags), await issueOptions(flags));
      io.out(formatIssued(`issued ${label} certificate`, issued));
    });
}

function agentCommand(io: CliIo) {
  return leafCommand('agent', 'issue an agent client certificate (SAN URI urn:dmr:agent:<id>, EKU clientAuth)', 'agent-<agent-id>')
    .requiredOption('--agent-id <id>', 'agent id, as in the registry (^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$)')
    .option(
      '--broker-users <names>',
      "this deployment's RabbitMQ user names, comma-separated (repeatable): the agent id must not equal one (dmr-relay, guest, admin, … are always refused)",
      parseList,
    )
    .action(async (flags) => {
      const options = { ...(await issueOptions(flags)), ...(flags.brokerUsers === undefined ? {} : { brokerUsers: flags.brokerUsers }) };
      const { issueAgentCertificate } = await loadCa();
      const issued = await issueAgentCertificate(flags.dir, flags.agentId, options);
      io.out(formatIssued(`issued agent certificate for ${flags.agentId}`, issued));
    });
}

function adminCommand(io: CliIo) {
  return new Command('admin')
    .description(
      "issue an administrator's client certificate for dmr-control's admin API (SAN URI urn:dmr:role:<role>:<name>, EKU clientAuth); how the first admin is bootstrapped",
    )
    .requiredOption('--dir <dir>', 'CA directory (the agent CA, whose certificate dmr-control trusts)')
    .requiredOption('--out <dir>', 'output directory for the .cert.pem (0644) and .key.pem (0600); created 0700')
    .requiredOption('--role <role>', `role: ${ADMIN_ROLES.join(', ')}`, parseRole)
    .requiredOption('--name <person>', 'who holds it (letters, digits, ._@-), e.g. mari.maasikas')
    .option('--file-name <name>', 'file base name (default: admin-<role>-<name>)')
    .option('--public-key <file>', 'PEM public key or CSR of a key pair made elsewhere: no private key is generated or written')
    .option('--key-type <type>', 'type of a generated key: ec-p256 (default) or rsa-3072', parseKeyType)
    .option('--days <n>', 'validity in days (default: 397)', parseDays)
    .action(async (flags) => {
      const options = await issueOptions({ ...flags, name: flags.fileName });
      const { issueAdminCertificate } = await loadCa();
      const issued = await issueAdminCertificate(flags.dir, flags.role, flags.name, options);
      io.out(formatIssued(`issued ${flags.role} certificate for ${flags.name}`, issued));
    });
}

function relayUserCommand(io: CliIo) {
  return leafCommand(
    'relay-user',
    'issue the RabbitMQ client certificate for SASL EXTERNAL (CN = user, EKU clientAuth) from the broker CA',
    '<user>',
  )
    .option('--user <name>', 'RabbitMQ user name, mapped from the CN', 'dmr-relay')
    .action(async (flags) => {
      const { issueRelayUserCertificate } = await loadCa();
      const issued = await issueRelayUserCertificate(flags.dir, flags.user, await issueOptions(flags));
      io.out(formatIssued(`issued RabbitMQ client certificate for user ${flags.user}`, issued));
    });
}

function showCommand(io: CliIo) {
  return new Command('show')
    .description('print subject, SANs, serial, validity and EKU of a PEM certificate')
    .argument('<file>', 'PEM certificate')
    .option('--json', 'print JSON instead of text')
    .action(async (file, flags) => {
      // show.js alone: reading a certificate needs node:crypto, not the CA toolkit's X.509 machinery
      const { describeCertificate } = await import('../ca/show.js');
      const summary = describeCertificate(await readInputFile(file));
      // agentId null rather than absent: JSON readers see the field either way
      io.out(flags.json ? `${JSON.stringify({ ...summary, agentId: summary.agentId ?? null }, null, 2)}\n` : formatSummary(summary));
    });
}

/** `dmrctl cert …`: issue server, agent, administrator, RabbitMQ server and relay-user certificates; show one. */
export function certCommand(io: CliIo): Command {
  return new Command('cert')
    .description('issue and inspect certificates')
    .addCommand(serverCommand(io, 'server'))
    .addCommand(agentCommand(io))
    .addCommand(adminCommand(io))
    .addCommand(serverCommand(io, 'rabbitmq-server'))
    .addCommand(relayUserCommand(io))
    .addCommand(showCommand(io));
}
