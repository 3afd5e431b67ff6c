// Issue #4 acceptance (server ↔ RabbitMQ): AMQPS only, certificate login (SASL EXTERNAL) as the only
// mechanism, and a relay user limited to `dmr.` resources, configured from the generated deploy/rabbitmq files.
// Issue 15 finding 9: RabbitMQ trusts only the broker CA, so an agent certificate whose CN names a broker user
// (issued by the agent CA the DMR servers trust) cannot log in.
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { issueCertificate, issueRelayUserCertificate, type LeafProfile } from '@dmr/control';
import { DEFAULT_RELAY_USER } from '@dmr/shared';
import { type RabbitNode, startRabbitNode } from '@dmr/testkit';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { TestPki } from '../support/pki.js';

const definitionsFile = resolve(import.meta.dirname, '../../deploy/rabbitmq/definitions.json');

describe('server ↔ RabbitMQ over AMQPS with certificate login', () => {
  /** The broker CA: the only CA RabbitMQ trusts; it issues the RabbitMQ listener and relay-user certificates. */
  let pki: TestPki;
  let node: RabbitNode;
  let relay: { cert: Buffer; key: Buffer };
  let server: RunningServer;
  let registry: RegistryFile;
  let receiver: Receiver;
  let a: Identity;
  let b: Identity;
  const stops: Array<() => Promise<void>> = [];
  let relayFiles: { certPath: string; keyPath: string };
  let running: [RunningAgent, RunningAgent] | undefined;

  function tlsOptions(withCert = true): Record<string, unknown> {
    return { ca: [readFileSync(pki.caCertPath)], ...(withCert ? relay : {}), noDelay: true };
  }

  async function management(path: string, init: RequestInit = {}): Promise<Response> {
    const authorization = `Basic ${Buffer.from(`${node.user}:${node.password}`).toString('base64')}`;
    return fetch(`http://127.0.0.1:${node.managementPort}/api${path}`, {
      ...init,
      headers: { authorization, 'content-type': 'application/json' },
    });
  }

  beforeAll(async () => {
    a = await makeIdentity('ec');
    b = await makeIdentity('ec');
    pki = await new TestPki().init('DMR Test Broker CA', 'broker');
    const brokerCert = await pki.rabbitmqServer();
    const relayCert = await pki.relayUser(DEFAULT_RELAY_USER);
    relay = { cert: readFileSync(relayCert.certPath), key: readFileSync(relayCert.keyPath) };
    node = await startRabbitNode({ tls: { caFile: pki.caCertPath, certFile: brokerCert.certPath, keyFile: brokerCert.keyPath } });
    const loaded = await management('/definitions', { method: 'POST', body: readFileSync(definitionsFile, 'utf8') });
    expect(loaded.status).toBeLessThan(300);

    registry = new RegistryFile([a, b]);
    receiver = await new Receiver().start();
    const rabbit = { amqpPort: node.amqpPort, managementBase: '', user: '', password: '', vhost: '/' };
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        RABBITMQ_AUTH_MECHANISM: 'EXTERNAL',
        RABBITMQ_APPLY_POLICIES: 'false',
        RABBITMQ_TLS_CA_FILE: pki.caCertPath,
        RABBITMQ_TLS_CERT_FILE: relayCert.certPath,
        RABBITMQ_TLS_KEY_FILE: relayCert.keyPath,
        // issue 18: a rotated relay certificate is noticed within 200 ms
        DMR_CERT_RELOAD_INTERVAL_MS: '200',
      }),
    );
    relayFiles = { certPath: relayCert.certPath, keyPath: relayCert.keyPath };
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await server?.server.stop();
    await receiver?.close();
    registry?.remove();
    await node?.stop();
    pki?.remove();
  });

  /** Agents A and B, started once for the file (one instance per identity: the server keeps the newest socket). */
  async function agents(): Promise<[RunningAgent, RunningAgent]> {
    if (!running) {
      const agentA = await startAgent(a, server.url, receiver.url);
      const agentB = await startAgent(b, server.url, receiver.url);
      stops.push(
        () => agentA.agent.stop(),
        () => agentB.agent.stop(),
      );
      running = [agentA, agentB];
    }
    return running;
  }

  it('relays through a broker it reaches with its certificate alone, under the deployed policies', async () => {
    const [agentA] = await agents();
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivery via AMQPS');
    // the management API lists connections from periodic stats, so wait for them rather than read once
    await waitUntil(
      async () => {
        const connections = (await (await management('/connections')).json()) as Array<{
          user: string;
          auth_mechanism: string;
          ssl: boolean;
        }>;
        return connections.some((c) => c.user === 'dmr-relay' && c.auth_mechanism === 'EXTERNAL' && c.ssl);
      },
      15_000,
      'relay connection listed as dmr-relay over TLS with EXTERNAL',
    );
    await waitUntil(
      async () => ((await (await management(`/queues/%2F/dmr.agent.${b.id}`)).json()) as { policy?: string }).policy === 'dmr-agent-queues',
      15_000,
      'deployed policy in force on the agent queue',
    );
  });

  it('has no plain AMQP listener, and refuses a password login on the TLS listener', async () => {
    const overview = (await (await management('/overview')).json()) as { listeners: Array<{ protocol: string }> };
    const protocols = overview.listeners.map((listener) => listener.protocol);
    expect(protocols).toContain('amqp/ssl');
    expect(protocols).not.toContain('amqp');
    // the broker's connection.start offers EXTERNAL alone, so a user and password (PLAIN) cannot even be tried:
    // a wrong password or a TLS failure would be a different refusal, and would not prove password login is off
    await expect(amqp.connect(`amqps://${node.user}:${node.password}@127.0.0.1:${node.amqpPort}`, tlsOptions())).rejects.toThrow(
      'SASL mechanism PLAIN is not provided by the server',
    );
    // and EXTERNAL without a client certificate is refused by the TLS handshake itself
    await expect(
      amqp.connect(`amqps://127.0.0.1:${node.amqpPort}`, { ...tlsOptions(false), credentials: amqp.credentials.external() }),
    ).rejects.toThrow(/certificate required|ECONNRESET|socket hang up/i);
  });

  it('keeps the relay user to dmr. resources: it cannot declare or read anything else', async () => {
    expect((await management('/queues/%2F/other.inbox', { method: 'PUT', body: JSON.stringify({ durable: true }) })).status).toBeLessThan(
      300,
    );
    const connection = await amqp.connect(`amqps://127.0.0.1:${node.amqpPort}`, {
      ...tlsOptions(),
      credentials: amqp.credentials.external(),
    });
    connection.on('error', () => undefined);
    try {
      const declaring = await connection.createChannel();
      declaring.on('error', () => undefined);
      await expect(declaring.assertQueue('not-dmr.queue')).rejects.toThrow(/ACCESS_REFUSED/);
      const reading = await connection.createChannel();
      reading.on('error', () => undefined);
      await expect(reading.consume('other.inbox', () => undefined)).rejects.toThrow(/ACCESS_REFUSED/);
      const allowed = await connection.createChannel();
      await expect(allowed.checkQueue(`dmr.agent.${b.id}`)).resolves.toMatchObject({ queue: `dmr.agent.${b.id}` });
    } finally {
      await connection.close().catch(() => undefined);
    }
  });
  it('refuses an agent-CA certificate whose CN is the relay user, and lets the broker CA relay certificate in', async () => {
    // what an agent with id "dmr-relay" would hold had the registry and dmrctl let it through: CN = agent id,
    // signed by the agent CA the DMR servers trust (hand-built profile: dmrctl itself now refuses this id)
    const agentPki = await testPki();
    const profile: LeafProfile = {
      kind: 'agent',
      commonName: DEFAULT_RELAY_USER,
      dnsNames: [],
      ipAddresses: [],
      uris: [`urn:dmr:agent:${DEFAULT_RELAY_USER}`],
      agentId: DEFAULT_RELAY_USER,
      extendedKeyUsage: 'clientAuth',
    };
    const rogue = await issueCertificate(agentPki.caDir, profile, 'rogue', { outDir: agentPki.outDir, name: `rogue-${randomUUID()}` });
    const rogueTls = { cert: readFileSync(rogue.certificatePath), key: readFileSync(rogue.keyPath ?? '') };
    const external = { credentials: amqp.credentials.external() };
    await expect(amqp.connect(`amqps://127.0.0.1:${node.amqpPort}`, { ...tlsOptions(false), ...rogueTls, ...external })).rejects.toThrow();
    const connection = await amqp.connect(`amqps://127.0.0.1:${node.amqpPort}`, { ...tlsOptions(), ...external });
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      await expect(channel.checkExchange('dmr.messages')).resolves.toBeDefined();
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  // issue 18: the relay user's certificate rotated on disk (by an operator or cert-manager) is taken by reconnecting
  // at a quiet moment; publishes refused meanwhile are told to the sender (503, retried), none is lost
  it('reloads a rotated relay certificate by reconnecting to RabbitMQ while messages flow: every message delivered once', async () => {
    const [agentA, agentB] = await agents();
    const before = await relayConnections();
    const rotatedAt = Date.now();
    const flow = sendUntilDelivered([agentA, agentB], [b.id, a.id], rotatedAt + 4000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const next = await issueRelayUserCertificate(pki.caDir, DEFAULT_RELAY_USER, { outDir: pki.outDir, name: `relay-${randomUUID()}` });
    // key first, then the certificate, each by rename: for a moment the pair does not match and must not be taken
    writeFileSync(`${relayFiles.keyPath}.next`, readFileSync(next.keyPath ?? ''), { mode: 0o600 });
    renameSync(`${relayFiles.keyPath}.next`, relayFiles.keyPath);
    writeFileSync(`${relayFiles.certPath}.next`, next.certificatePem);
    renameSync(`${relayFiles.certPath}.next`, relayFiles.certPath);
    const sent = await flow;
    process.stdout.write(
      `relay certificate reload: ${sent.accepted.length} accepted, ${sent.refusedStatuses.length} answers 502/503 (sent again)\n`,
    );
    expect(sent.accepted.length).toBeGreaterThan(20);
    await waitUntil(() => sent.accepted.every((id) => receiver.countOf(id) >= 1), 15_000, 'every accepted message delivered');
    expect(sent.accepted.filter((id) => receiver.countOf(id) !== 1)).toEqual([]);
    // refusals during the reconnect are transient (503, sent again by the caller) and name the broker, never a loss
    expect(sent.refusedStatuses.every((status) => status === 503 || status === 502)).toBe(true);
    const reloaded = server.logs.find({ msg: 'certificate reloaded', certificate: 'rabbitmq' });
    expect(reloaded).toHaveLength(1);
    expect(reloaded[0]?.serial).toBe(next.serial.toUpperCase());
    // RabbitMQ now sees one relay connection, opened after the rotation, with the new certificate's validity
    await waitUntil(async () => (await relayConnections()).some((c) => c.connected_at >= rotatedAt), 15_000, 'new relay connection listed');
    const after = await relayConnections();
    expect(after).toHaveLength(1);
    expect(after[0]?.peer_cert_validity).not.toBe(before[0]?.peer_cert_validity);
  });

  async function relayConnections(): Promise<Array<{ connected_at: number; peer_cert_validity: string }>> {
    const connections = (await (await management('/connections')).json()) as Array<{
      user: string;
      connected_at: number;
      peer_cert_validity: string;
    }>;
    return connections.filter((connection) => connection.user === DEFAULT_RELAY_USER);
  }

  /** Sends between the agents until `untilMs`, sending again what was refused (as a caller would); returns what happened. */
  async function sendUntilDelivered(agents: RunningAgent[], recipients: string[], untilMs: number) {
    const accepted: string[] = [];
    const refusedStatuses: number[] = [];
    const lane = async (agent: RunningAgent, recipientId: string) => {
      while (Date.now() < untilMs) {
        const body = v1Body(recipientId);
        for (let attempt = 0; attempt < 50; attempt++) {
          const answer = await postMessage(agent.url, body);
          if (answer.status === 202) {
            accepted.push(body.id);
            break;
          }
          refusedStatuses.push(answer.status);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    await Promise.all(
      agents.flatMap((agent, index) => [lane(agent, recipients[index] as string), lane(agent, recipients[index] as string)]),
    );
    return { accepted, refusedStatuses };
  }
});
