import { readFile } from 'node:fs/promises';
import { type BrokerConfig, brokerTlsOptions, brokerUrl, DmrError } from '@dmr/shared';
import amqp, { type ChannelModel } from 'amqplib';

/**
 * Connects to the first RabbitMQ node of `config` that answers, exactly as dmr-server does: the same variables, TLS
 * verified against `RABBITMQ_TLS_CA_FILE` (never switched off), certificate login with `RABBITMQ_AUTH_MECHANISM=EXTERNAL`.
 * Throws DMR_CONFIG_INVALID when a TLS file cannot be read, DMR_ROUTE_BROKER_UNAVAILABLE when no node accepts.
 */
export async function connectBroker(config: BrokerConfig): Promise<ChannelModel> {
  const material = config.tls ? await readTlsMaterial(config) : undefined;
  let lastError: unknown;
  for (const endpoint of config.endpoints) {
    const options: Record<string, unknown> = { noDelay: true, ...(material ? brokerTlsOptions(material, endpoint.host) : {}) };
    if (config.authMechanism === 'EXTERNAL') options.credentials = amqp.credentials.external();
    try {
      return await amqp.connect(`${brokerUrl(config, endpoint)}?heartbeat=${config.heartbeatS}`, options);
    } catch (error) {
      lastError = error;
    }
  }
  const reason = lastError instanceof Error ? lastError.message : 'no RABBITMQ_DEFAULT_HOST';
  throw new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', `cannot connect to RabbitMQ (${reason})`, { cause: lastError });
}

async function readTlsMaterial(config: BrokerConfig): Promise<{ ca: Buffer; cert?: Buffer; key?: Buffer }> {
  const tls = config.tls as NonNullable<BrokerConfig['tls']>;
  const ca = await readNamed('RABBITMQ_TLS_CA_FILE', tls.caFile);
  if (!tls.certFile || !tls.keyFile) return { ca };
  return { ca, cert: await readNamed('RABBITMQ_TLS_CERT_FILE', tls.certFile), key: await readNamed('RABBITMQ_TLS_KEY_FILE', tls.keyFile) };
}

async function readNamed(variable: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new DmrError('DMR_CONFIG_INVALID', `${variable}: cannot read "${path}" (${(error as Error).message})`, { cause: error });
  }
}
