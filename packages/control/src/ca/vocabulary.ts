// The CA's vocabulary (key types, certificate kinds, CA purposes), apart from the modules that load @peculiar/x509:
// dmrctl's option parsing needs it for every command line, the X.509 machinery only commands that issue or sign.

/** Key types the toolkit generates: EC P-256 (default: small, fast TLS) or RSA 3072 (128-bit security). */
export type KeyType = 'ec-p256' | 'rsa-3072';

/** Every {@link KeyType}, for option parsing. */
export const KEY_TYPES: readonly KeyType[] = ['ec-p256', 'rsa-3072'];

/** The kinds of certificate this CA issues. */
export type CertificateKind = 'server' | 'agent' | 'admin' | 'rabbitmq-server' | 'relay-user' | 'audit';

/** The kinds `dmrctl cert` issues offline (`audit` certificates are issued by dmr-control's audit writer only). */
export const CERTIFICATE_KINDS: readonly CertificateKind[] = ['server', 'agent', 'admin', 'rabbitmq-server', 'relay-user'];

/**
 * What a CA is for. RabbitMQ maps a client certificate's CN to a user name, and agent certificates carry
 * CN = agent id; so the CA RabbitMQ trusts must never sign agent certificates. An `agents` CA signs DMR server
 * and agent certificates; a `broker` CA, the only one in RabbitMQ's `ssl_options.cacertfile`, signs the RabbitMQ
 * listener and relay-user certificates. Administrator certificates (`admin`, a role for dmr-control's admin API) come
 * from the agent CA, whose certificate dmr-control trusts for client certificates.
 */
export type CaPurpose = 'agents' | 'broker';

/** Every {@link CaPurpose}. */
export const CA_PURPOSES: readonly CaPurpose[] = ['agents', 'broker'];
