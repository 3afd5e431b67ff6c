// Records of the certificate lifecycle (issue 18, control/certs): signed CRLs, and the enrollment tokens of server
// instances and the relay user (agents' tokens are `enrollment_tokens`, tied to the agent row).

import type { IsoTime } from './records.js';

/** One signed CRL of one CA, as every control instance serves it. */
export interface CrlRecord {
  readonly caId: string;
  /** The number in the CRL's CRL-number extension (unique per CA, increasing). */
  readonly crlNumber: number;
  readonly thisUpdate: IsoTime;
  readonly nextUpdate: IsoTime;
  /** PEM, label `X509 CRL`, ending with a newline. */
  readonly pem: string;
}

/** Who a service enrollment token is for: a DMR server instance (agent CA) or the relay's RabbitMQ user (broker CA). */
export type ServiceSubjectKind = 'server' | 'relay-user';

/** A one-time enrollment token of a server instance or the relay user, stored only as its SHA-256. */
export interface ServiceTokenRecord {
  /** SHA-256 of the token, lowercase hex. */
  readonly tokenHash: string;
  readonly subjectKind: ServiceSubjectKind;
  /** Server instance name or RabbitMQ user name. */
  readonly subjectId: string;
  /** DNS names and IP addresses the server certificate will carry (the operator's choice, not the CSR's). */
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly createdAt: IsoTime;
  readonly expiresAt: IsoTime;
  readonly createdBy: string;
  readonly usedAt: IsoTime | null;
}

/** What creating a service token needs. */
export type ServiceTokenInput = Omit<ServiceTokenRecord, 'createdAt' | 'usedAt'>;
