// The DMR CA of the agent tests: made at run time in memory, its certificate written to a temp file for
// DMR_PEER_CA_FILE. The test peer lists agents with certificates from it, so every agent under test runs with
// the default (secure) peer key trust.
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCa } from '@dmr/testkit';

/** The tests' DMR CA. */
export const PEER_CA: TestCa = await TestCa.create('DMR agent tests CA');

const dir = mkdtempSync(join(tmpdir(), 'dmr-agent-peer-ca-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Path of the CA certificate, for DMR_PEER_CA_FILE. */
export const PEER_CA_FILE = join(dir, 'peer-ca.pem');
writeFileSync(PEER_CA_FILE, PEER_CA.pem);

/** An agent certificate from {@link PEER_CA} for `agentId` and the public key `publicPem`. */
export function agentCertificate(agentId: string, publicPem: string): Promise<string> {
  return PEER_CA.agentCertificate(agentId, createPublicKey(publicPem));
}
