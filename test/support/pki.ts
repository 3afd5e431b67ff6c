// A throwaway PKI per test file, made with the project's own CA toolkit (@dmr/control):
// a CA, a server certificate for 127.0.0.1/localhost, agent client certificates, revocation and CRLs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CaPurpose,
  initCa,
  issueAgentCertificate,
  issueRabbitmqServerCertificate,
  issueRelayUserCertificate,
  issueServerCertificate,
  publishCrl,
  revokeCertificates,
  type Validity,
} from '@dmr/control';

/** Files of one issued leaf. */
export interface LeafFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

/** A test PKI in a temp dir. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'dmr-pki-'));
  readonly caDir = join(this.dir, 'ca');
  readonly outDir = join(this.dir, 'out');
  readonly crlPath = join(this.dir, 'crl.pem');
  caCertPath = '';
  #issued = 0;
  // the CA takes a lock file per operation: calls made at once (Promise.all) run one after another
  #queue: Promise<unknown> = Promise.resolve();
  caCert = '';

  /** Creates the CA (an agent CA unless `purpose` says `broker`), an initial (empty) CRL and returns this. */
  async init(name = 'DMR Test CA', purpose: CaPurpose = 'agents'): Promise<this> {
    const ca = await initCa({ dir: this.caDir, commonName: name, purpose });
    this.caCertPath = ca.certificatePath;
    this.caCert = ca.certificatePem;
    await this.publishCrl();
    return this;
  }

  /** A server certificate for 127.0.0.1 and localhost. */
  async server(name = 'server'): Promise<LeafFiles> {
    return leaf(
      await this.#serial(() =>
        issueServerCertificate(this.caDir, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }, { outDir: this.outDir, name }),
      ),
    );
  }

  /** An agent client certificate (SAN URI urn:dmr:agent:<agentId>). */
  async agent(agentId: string, validity?: Validity): Promise<LeafFiles> {
    return leaf(
      await this.#serial(() =>
        issueAgentCertificate(this.caDir, agentId, {
          outDir: this.outDir,
          name: `agent-${agentId}-${++this.#issued}`,
          ...(validity ? { validity } : {}),
        }),
      ),
    );
  }

  /** From a broker CA: a RabbitMQ TLS listener certificate for 127.0.0.1 and localhost. */
  async rabbitmqServer(name = 'rabbitmq'): Promise<LeafFiles> {
    return leaf(
      await issueRabbitmqServerCertificate(
        this.caDir,
        { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
        { outDir: this.outDir, name },
      ),
    );
  }

  /** From a broker CA: the relay user's SASL EXTERNAL client certificate (CN = `user`). */
  async relayUser(user: string): Promise<LeafFiles> {
    return leaf(await issueRelayUserCertificate(this.caDir, user, { outDir: this.outDir, name: user }));
  }

  /**
   * An agent certificate (SAN URI urn:dmr:agent:<agentId>) for an existing key: `publicKeyPem` is the agent's public
   * key, so the agent signs with the key its certificate carries (the key stays with the caller).
   */
  async agentForKey(agentId: string, publicKeyPem: string): Promise<{ certPath: string; cert: string }> {
    const issued = await this.#serial(() =>
      issueAgentCertificate(this.caDir, agentId, { outDir: this.outDir, name: `agent-${agentId}-${++this.#issued}`, publicKeyPem }),
    );
    return { certPath: issued.certificatePath, cert: issued.certificatePem };
  }

  /** Revokes every certificate of `agentId` and republishes the CRL the server watches. */
  async revokeAgent(agentId: string): Promise<void> {
    await this.#serial(() => revokeCertificates(this.caDir, { agentId }, 'keyCompromise'));
    await this.publishCrl();
  }

  async publishCrl(): Promise<void> {
    await this.#serial(() => publishCrl(this.caDir, { outPath: this.crlPath }));
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function leaf(issued: { certificatePath: string; keyPath?: string }): LeafFiles {
  if (!issued.keyPath) throw new Error('expected a generated key');
  return {
    certPath: issued.certificatePath,
    keyPath: issued.keyPath,
    cert: readFileSync(issued.certificatePath, 'utf8'),
    key: readFileSync(issued.keyPath, 'utf8'),
  };
}
