// One scenario's system: agents A and B, N dmr-server processes, a registry file, the fault endpoint, all as
// real processes on fixed ports (so a killed process can be restarted where its peers expect it).
import { findFreePorts } from '@dmr/testkit';
import { type BrokerTarget, type Identity, makeIdentity, peerCaFile, RegistryFile, serverEnv } from '../../support/dmr-system.js';
import { FaultEndpoint } from './endpoint.js';
import { AGENT_BIN, Fleet, type Proc, SERVER_BIN, waitReady } from './fleet.js';

/** A dmr-server process on a fixed port; `restart()` starts a new process with the same environment. */
export interface ServerHandle {
  readonly url: string;
  readonly port: number;
  proc: Proc;
  restart(): Promise<void>;
}

/** A dmr-agent process on a fixed port. */
export interface AgentHandle {
  readonly url: string;
  readonly identity: Identity;
  proc: Proc;
  restart(): Promise<void>;
}

/** Where the servers' RabbitMQ is: one node (vhost) or a cluster (several hosts). */
export interface BrokerSpec extends BrokerTarget {
  /** `RABBITMQ_DEFAULT_HOST` (a comma list for a cluster). */
  readonly hosts: string;
  /** `RABBITMQ_DEFAULT_MANAGEMENT_UI_URI` (a comma list for a cluster). */
  readonly managementUris: string;
}

/** Settings shared by every scenario, tuned so faults show within seconds on a 2-core machine. */
const SERVER_DEFAULTS: Record<string, string> = {
  LOGGER_LOG_LEVELS: 'error,warn,log',
  RABBITMQ_DEFAULT_DEFAULT_RECONNECT_INTERVAL: '200',
  RABBITMQ_RECONNECT_INTERVAL_MAX: '1000',
  RABBITMQ_HEARTBEAT_S: '5',
  DMR_SHUTDOWN_TIMEOUT_MS: '3000',
};
const AGENT_DEFAULTS: Record<string, string> = {
  HOST: '127.0.0.1',
  LOGGER_LOG_LEVELS: 'error,warn,log',
  DMR_ALLOW_PLAINTEXT: 'true',
  WEBSOCKET_RECONNECTION_DELAY: '100',
  WEBSOCKET_RECONNECTION_DELAY_MAX: '1000',
  MESSAGE_DELIVERY_TIMEOUT_MS: '5000',
  // generous: the endpoint shares its process with the test runner, and an endpoint that processed a request but
  // answered after this timeout gets it again (the timeout ambiguity docs/reliability.md describes), which would
  // show up as a duplicate that no fault caused
  OUTGOING_MESSAGE_TIMEOUT_MS: '10000',
  DMR_SHUTDOWN_TIMEOUT_MS: '2000',
};

/** A scenario's world; call `close()` in afterEach (it kills every process by PID). */
export class FaultWorld {
  readonly fleet = new Fleet();
  // set by open(): identities carry a certificate from the test PKI, which is issued asynchronously
  a!: Identity;
  b!: Identity;
  registry!: RegistryFile;
  readonly endpoint = new FaultEndpoint();

  constructor(readonly broker: BrokerSpec) {}

  /** Makes agents A and B (keys and certificates) and the registry listing them, and starts the endpoint. */
  async open(): Promise<this> {
    [this.a, this.b] = await Promise.all([makeIdentity('ec'), makeIdentity('ec')]);
    this.registry = new RegistryFile([this.a, this.b]);
    this.peerCaFile = await peerCaFile();
    await this.endpoint.start();
    return this;
  }

  /** The agents' DMR_PEER_CA_FILE: the test PKI's CA, which issued the registry's certificates. */
  peerCaFile = '';

  /** Starts a dmr-server process and waits until it is ready. */
  async startServer(name: string, extra: Record<string, string> = {}): Promise<ServerHandle> {
    const [port = 0] = await findFreePorts(1);
    const env = {
      ...serverEnv(this.broker, this.registry.url, SERVER_DEFAULTS),
      RABBITMQ_DEFAULT_HOST: this.broker.hosts,
      RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: this.broker.managementUris,
      ...extra,
      PORT: String(port),
    };
    const url = `http://127.0.0.1:${port}`;
    const handle: ServerHandle = {
      url,
      port,
      proc: this.fleet.launch(name, SERVER_BIN, env),
      restart: async () => {
        handle.proc = this.fleet.launch(name, SERVER_BIN, env);
        await waitReady(handle.proc, url);
      },
    };
    await waitReady(handle.proc, url);
    return handle;
  }

  /** Starts a dmr-agent process connected to `serverUrls` (comma-joined) and waits until it is ready. */
  async startAgent(
    name: string,
    identity: Identity,
    serverUrls: readonly string[],
    extra: Record<string, string> = {},
  ): Promise<AgentHandle> {
    const [port = 0] = await findFreePorts(1);
    const env = {
      ...AGENT_DEFAULTS,
      PORT: String(port),
      AGENT_ID: identity.id,
      AGENT_PRIVATE_KEY_FILE: this.fleet.keyFile(identity),
      DMR_SERVER_WEBSOCKET_URL: serverUrls.join(','),
      OUTGOING_MESSAGE_ENDPOINT: this.endpoint.url,
      DMR_PEER_CA_FILE: this.peerCaFile,
      ...extra,
    };
    const url = `http://127.0.0.1:${port}`;
    const handle: AgentHandle = {
      url,
      identity,
      proc: this.fleet.launch(name, AGENT_BIN, env),
      restart: async () => {
        handle.proc = this.fleet.launch(name, AGENT_BIN, env);
        await waitReady(handle.proc, url);
      },
    };
    await waitReady(handle.proc, url);
    return handle;
  }

  /** Every log line of every server process started so far (restarts included). */
  serverLines(): Array<Record<string, unknown>> {
    return this.fleet.all.filter((proc) => proc.name.startsWith('server')).flatMap((proc) => proc.lines);
  }

  /** Kills every process (by PID), closes the endpoint, removes the registry file. */
  async close(): Promise<void> {
    await this.fleet.stopAll();
    await this.endpoint.close();
    this.registry?.remove();
  }
}

/** Runs every cleanup step even when one fails (a failed step must not leave a process or node running), then throws the first error. */
export async function cleanUp(...steps: Array<(() => Promise<unknown>) | undefined>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step?.();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
}
