// The control-plane part of `npm start`: an admin certificate for the local dmr-control, the admin API client, and
// agent enrollment. The agent-side enrollment client (an agent started with a token enrolls itself) is not merged
// yet (branch clients/renewal), so this bootstrap does what it will do, through the same public API: it makes the
// agent's key here, sends a CSR to POST /v1/enroll with a one-time token from the admin API, and hands the agent
// process the resulting key and certificate files. The key never goes to dmr-control.
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { issueAdminCertificate } from '@dmr/control';
import { x509 } from '@dmr/shared/pki';

/** An admin client certificate (`dmrctl cert admin` does the same) for the local control plane. */
export async function makeAdmin(caDir, outDir) {
  const issued = await issueAdminCertificate(caDir, 'admin', 'local.admin', { outDir });
  return {
    certPath: issued.certificatePath,
    keyPath: issued.keyPath,
    cert: readFileSync(issued.certificatePath, 'utf8'),
    key: readFileSync(issued.keyPath, 'utf8'),
  };
}

/** One admin API call over mutual TLS: `{status, json}`. `client` null sends no certificate (enrollment). */
export function callControl(base, caPem, client, method, path, body) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const url = new URL(path, base);
  return new Promise((resolveCall, rejectCall) => {
    const request = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname,
        ca: caPem,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
        agent: false,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolveCall({ status: response.statusCode, json: text ? JSON.parse(text) : {} }));
      },
    );
    request.on('error', rejectCall);
    request.end(payload);
  });
}

/** Creates `agent` in dmr-control, enrolls a fresh P-256 key with a token, and writes the key and certificate. */
export async function enrollAgent(base, caPem, admin, agent, workDir) {
  const expect = (answer, status, what) => {
    if (answer.status !== status) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
    return answer.json;
  };
  expect(await callControl(base, caPem, admin, 'POST', '/v1/agents', { id: agent.id, name: `Agent ${agent.name}` }), 201, 'create agent');
  const { token } = expect(await callControl(base, caPem, admin, 'POST', `/v1/agents/${agent.id}/enrollment-tokens`, {}), 201, 'token');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await csrFor(privateKey, publicKey, agent.id);
  const enrolled = expect(await callControl(base, caPem, null, 'POST', '/v1/enroll', { token, csr }), 201, 'enroll');
  const keyFile = join(workDir, `agent-${agent.name}.key.pem`);
  const certFile = join(workDir, `agent-${agent.name}.cert.pem`);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(certFile, enrolled.certificate);
  return { ...agent, keyFile, certFile, serial: enrolled.serial };
}

/** A PKCS#10 request for `id` (CN and SAN urn:dmr:agent:<id>), signed by the agent's own key. */
async function csrFor(privateKeyObject, publicKeyObject, id) {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    privateKeyObject.export({ type: 'pkcs8', format: 'der' }),
    algorithm,
    false,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey('spki', publicKeyObject.export({ type: 'spki', format: 'der' }), algorithm, true, [
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name([{ CN: [{ utf8String: id }] }]),
    keys: { privateKey, publicKey },
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:dmr:agent:${id}` }])],
  });
  return csr.toString('pem');
}
