// The control-plane part of `npm start`: an admin certificate for the local dmr-control, the admin API client, and
// the operator's side of enrollment (create the agent, mint its one-time token). The agents enroll themselves, as a
// real deployment's do: started with DMR_CONTROL_URL and DMR_ENROLLMENT_TOKEN, each makes its own key.
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { issueAdminCertificate } from '@dmr/control';

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

/**
 * Creates `agent` in dmr-control and mints its one-time enrollment token through the admin API, as an operator
 * would. The agent process enrolls itself with it (DMR_ENROLLMENT_TOKEN): it makes its key, sends the CSR to
 * POST /v1/enroll and writes key, certificate and CA bundle to the paths returned here. The key never leaves it.
 */
export async function createAgentWithToken(base, caPem, admin, agent, workDir) {
  const expect = (answer, status, what) => {
    if (answer.status !== status) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
    return answer.json;
  };
  expect(await callControl(base, caPem, admin, 'POST', '/v1/agents', { id: agent.id, name: `Agent ${agent.name}` }), 201, 'create agent');
  const { token } = expect(await callControl(base, caPem, admin, 'POST', `/v1/agents/${agent.id}/enrollment-tokens`, {}), 201, 'token');
  return {
    ...agent,
    token,
    keyFile: join(workDir, `agent-${agent.name}.key.pem`),
    certFile: join(workDir, `agent-${agent.name}.cert.pem`),
    caFile: join(workDir, `agent-${agent.name}.ca.pem`),
  };
}
