import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DmrError } from '@dmr/shared';
import { buildRegoIndex, parsePolicyDocument } from '@dmr/shared/policy';
import tarStream from 'tar-stream';

/**
 * The Rego the bundle ships: the repository's deploy/policy/dmr.rego (the same file the opa-wasm engine is built
 * from), found from this module's place in packages/control/{src,dist}/api/ of the checkout dmr-control runs from.
 */
export const SHIPPED_REGO_FILE = fileURLToPath(new URL('../../../../deploy/policy/dmr.rego', import.meta.url));

/** What goes into one OPA bundle: the policy version in force (0 and no document when none is stored) and the Rego. */
export interface PolicyBundleInput {
  readonly version: number;
  readonly document: unknown;
  readonly rego: string;
}

/** A built bundle and its strong ETag (`"<policy version>-<rego sha256 prefix>"`, unchanged while both are). */
export interface PolicyBundle {
  readonly bytes: Buffer;
  readonly etag: string;
}

/**
 * Builds the OPA bundle dmr-control serves at `GET /v1/policies/bundle.tar.gz` (docs/policy.md "OPA sidecar"): a
 * gzipped tar of `.manifest` (`{revision: "<version>", roots: ["dmr"]}`), `dmr/dmr.rego` and `data.json`
 * (`{dmr: {policy, policyVersion, index}}`, the index from buildRegoIndex so dmr.rego looks rules up instead of
 * scanning them all; `{dmr: {}}` without a stored policy, which dmr.rego decides as NO_POLICY).
 * Deterministic: the same input gives the same bytes (entry times are 0). Throws DMR_POLICY_INVALID for a stored
 * document parsePolicyDocument refuses (dmr-control stores only accepted ones).
 */
export async function buildPolicyBundle(input: PolicyBundleInput): Promise<PolicyBundle> {
  const data = input.version === 0 ? { dmr: {} } : { dmr: policyData(input.document, input.version) };
  const entries: ReadonlyArray<readonly [string, string]> = [
    ['.manifest', JSON.stringify({ revision: String(input.version), roots: ['dmr'] })],
    ['dmr/dmr.rego', input.rego],
    ['data.json', JSON.stringify(data)],
  ];
  const tar = await packTar(entries);
  const regoHash = createHash('sha256').update(input.rego).digest('hex').slice(0, 12);
  return { bytes: gzipSync(tar), etag: `"${input.version}-${regoHash}"` };
}

/** `data.dmr` for a stored document: the document, its version and the rule index dmr.rego looks candidates up in. */
function policyData(document: unknown, version: number) {
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) throw new DmrError('DMR_POLICY_INVALID', `stored policy version ${version}: ${parsed.field}: ${parsed.message}`);
  return { policy: document, policyVersion: version, index: buildRegoIndex(parsed.document) };
}

function packTar(entries: ReadonlyArray<readonly [string, string]>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: Buffer) => chunks.push(chunk));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const [name, text] of entries) pack.entry({ name, mtime: new Date(0), mode: 0o644 }, Buffer.from(text, 'utf8'));
  pack.finalize();
  return done;
}

/** Reads the shipped Rego (or another file, for tests) once per call. */
export function readBundleRego(file: string = SHIPPED_REGO_FILE): Promise<string> {
  return readFile(file, 'utf8');
}
