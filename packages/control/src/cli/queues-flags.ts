/** Command-line flags that stand in for the server's RABBITMQ_* variables (a flag wins over the variable). */
export const CONNECTION_FLAGS = [
  ['--rabbitmq-host <hosts>', 'RABBITMQ_DEFAULT_HOST'],
  ['--rabbitmq-port <port>', 'RABBITMQ_DEFAULT_PORT'],
  ['--vhost <vhost>', 'RABBITMQ_DEFAULT_VHOST'],
  ['--user <user>', 'RABBITMQ_DEFAULT_USER'],
  ['--management-uri <urls>', 'RABBITMQ_DEFAULT_MANAGEMENT_UI_URI'],
  ['--auth-mechanism <mechanism>', 'RABBITMQ_AUTH_MECHANISM'],
  ['--tls-ca-file <file>', 'RABBITMQ_TLS_CA_FILE'],
  ['--tls-cert-file <file>', 'RABBITMQ_TLS_CERT_FILE'],
  ['--tls-key-file <file>', 'RABBITMQ_TLS_KEY_FILE'],
] as const;

/** The flags of `dmrctl queues migrate`, as commander parsed them. */
export interface MigrateFlags {
  readonly agentIds?: string[];
  readonly registryUrl?: string;
  readonly registryCaFile?: string;
  readonly discover?: true;
  readonly sourceQueue: string;
  readonly sourceDlq: string;
  readonly dryRun?: true;
  readonly force?: true;
  readonly window: number;
  readonly idleMs: number;
  readonly progressMs: number;
  readonly json?: true;
  readonly sourceVhost?: string;
}
