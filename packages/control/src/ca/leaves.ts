import { type IssuedCertificate, type IssueOptions, issueCertificate } from './authority.js';
import { adminProfile, agentProfile, relayUserProfile, serverProfile } from './profiles.js';

/** Names of a TLS server certificate. */
export interface ServerNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Default: the first DNS name, else the first IP address. */
  readonly commonName?: string;
}

/**
 * Issues a DMR server certificate (SAN DNS/IP, EKU serverAuth, 397 days by default) into
 * `options.outDir` as `server.cert.pem` / `server.key.pem` unless `options.name` says otherwise.
 * Throws the codes of {@link issueCertificate}.
 */
export function issueServerCertificate(caDir: string, names: ServerNames, options: IssueOptions): Promise<IssuedCertificate> {
  return issueCertificate(caDir, serverProfile('server', names), 'server', options);
}

/** Issues a RabbitMQ TLS listener certificate, like {@link issueServerCertificate}; files `rabbitmq-server.*.pem`. */
export function issueRabbitmqServerCertificate(caDir: string, names: ServerNames, options: IssueOptions): Promise<IssuedCertificate> {
  return issueCertificate(caDir, serverProfile('rabbitmq-server', names), 'rabbitmq-server', options);
}

/** Options of {@link issueAgentCertificate}. */
export interface AgentIssueOptions extends IssueOptions {
  /** RabbitMQ user names of this deployment beyond the built-in reserved ones: the agent id must not equal one. */
  readonly brokerUsers?: readonly string[];
}

/**
 * Issues an agent client certificate: CN = agent id, SAN URI `urn:dmr:agent:<agentId>`, EKU
 * clientAuth; files `agent-<agentId>.*.pem`. Pass `options.publicKeyPem` (public key or CSR) to
 * keep the private key on the agent's machine. An id that names a RabbitMQ user (`dmr-relay`, `guest`,
 * `admin`, … or `options.brokerUsers`) is DMR_CA_INVALID_REQUEST. Throws the codes of {@link issueCertificate}.
 */
export function issueAgentCertificate(caDir: string, agentId: string, options: AgentIssueOptions): Promise<IssuedCertificate> {
  return issueCertificate(caDir, agentProfile(agentId, options.brokerUsers), `agent-${agentId}`, options);
}

/**
 * Issues the RabbitMQ client certificate for SASL EXTERNAL: CN = the RabbitMQ user (`dmr-relay`),
 * EKU clientAuth; files `<user>.*.pem`. Throws the codes of {@link issueCertificate}.
 */
export function issueRelayUserCertificate(caDir: string, user: string, options: IssueOptions): Promise<IssuedCertificate> {
  return issueCertificate(caDir, relayUserProfile(user), user.replace(/[^A-Za-z0-9._-]/g, '_'), options);
}

/**
 * Issues an administrator's client certificate for dmr-control (SAN URI `urn:dmr:role:<role>:<person>`, EKU
 * clientAuth) from the agent CA; files `admin-<role>-<person>.*.pem`. This is how an operator bootstraps the first
 * admin offline (`dmrctl cert admin`). Throws DMR_CA_INVALID_REQUEST for an unknown role or a bad name, and the codes
 * of {@link issueCertificate}.
 */
export function issueAdminCertificate(caDir: string, role: string, person: string, options: IssueOptions): Promise<IssuedCertificate> {
  return issueCertificate(caDir, adminProfile(role, person), `admin-${role}-${person.replace(/[^A-Za-z0-9._-]/g, '_')}`, options);
}
