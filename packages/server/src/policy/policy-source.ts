import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DmrError, toDmrError } from '@dmr/shared';
import { MAX_POLICY_BYTES } from '@dmr/shared/policy';
import { type ControlTls, sendControlRequest } from '../control/index.js';
import type { PolicyData } from './policy-engine.js';

/** Largest policy document read, bytes of JSON (docs/policy.md "Limits": `MAX_POLICY_BYTES`, 8 MiB). */
export const MAX_POLICY_DOCUMENT_BYTES = MAX_POLICY_BYTES;

/** What one read found: a document (with what identifies its content), or that the source holds none. */
export type PolicyRead =
  | { readonly kind: 'document'; readonly data: PolicyData; readonly fingerprint: string }
  | { readonly kind: 'none'; readonly fingerprint: string };

/** Where the server reads its policy (docs/policy.md "Lifecycle"). */
export interface PolicySource {
  /** Names the source in logs (a URL). */
  readonly origin: string;
  /**
   * Reads the latest document. Throws DMR_POLICY_FETCH_FAILED (unreachable, non-2xx, too large) or DMR_POLICY_INVALID
   * (not UTF-8 JSON, or a control plane answer without version and document).
   */
  read(): Promise<PolicyRead>;
}

/** How a source reaches https endpoints. */
export interface SourceOptions {
  readonly timeoutMs: number;
  /** CA bundle, client certificate and key (the control plane's `server` role). */
  readonly tls: ControlTls;
}

/**
 * dmr-control's latest version: `GET {controlUrl}/v1/policies/latest` over mutual TLS → `{version, document, ...}`, or
 * 404 when no version is stored (then no policy is in force: every message allowed, NO_POLICY).
 */
export function controlPolicySource(controlUrl: string, options: SourceOptions): PolicySource {
  const url = `${controlUrl}/v1/policies/latest`;
  return {
    origin: url,
    read: async () => {
      const answer = await fetchOrThrow(() =>
        sendControlRequest({
          method: 'GET',
          url,
          timeoutMs: options.timeoutMs,
          tls: options.tls,
          maxBytes: answerLimit(),
          accept: 'application/json',
        }),
      );
      if (answer.status === 404) return { kind: 'none', fingerprint: 'none' };
      if (answer.status < 200 || answer.status >= 300) {
        throw new DmrError(
          'DMR_POLICY_FETCH_FAILED',
          `${url} answered HTTP ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`,
        );
      }
      const data = controlAnswerOf(parseJson(answer.body, url));
      return { kind: 'document', data, fingerprint: `version:${data.version}` };
    },
  };
}

/**
 * `DMR_POLICY_URL`: a document file (`file://`) or an https URL serving one. Its `version` member names the version
 * (default 1: set it to tell versions apart in decisions and metrics).
 */
export function urlPolicySource(policyUrl: string, options: SourceOptions): PolicySource {
  return {
    origin: policyUrl,
    read: async () => {
      const bytes = policyUrl.startsWith('file:') ? await readPolicyFile(policyUrl) : await readPolicyUrl(policyUrl, options);
      const document = parseJson(bytes, policyUrl);
      const version = (document as { version?: unknown } | null)?.version;
      const data = { version: Number.isSafeInteger(version) && (version as number) >= 0 ? (version as number) : 1, document };
      return { kind: 'document', data, fingerprint: createHash('sha256').update(bytes).digest('hex') };
    },
  };
}

async function readPolicyFile(url: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(fileURLToPath(url));
  } catch (error) {
    throw new DmrError('DMR_POLICY_FETCH_FAILED', `cannot read the policy file ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (bytes.byteLength > MAX_POLICY_DOCUMENT_BYTES) {
    throw new DmrError(
      'DMR_POLICY_INVALID',
      `the policy file ${url} is ${bytes.byteLength} bytes; at most ${MAX_POLICY_DOCUMENT_BYTES} are read`,
    );
  }
  return bytes;
}

async function readPolicyUrl(url: string, options: SourceOptions): Promise<Buffer> {
  const answer = await fetchOrThrow(() =>
    sendControlRequest({
      method: 'GET',
      url,
      timeoutMs: options.timeoutMs,
      tls: options.tls,
      maxBytes: MAX_POLICY_DOCUMENT_BYTES,
      accept: 'application/json',
    }),
  );
  if (answer.status < 200 || answer.status >= 300) throw new DmrError('DMR_POLICY_FETCH_FAILED', `${url} answered HTTP ${answer.status}`);
  return answer.body;
}

async function fetchOrThrow<T>(fetch: () => Promise<T>): Promise<T> {
  try {
    return await fetch();
  } catch (error) {
    throw new DmrError('DMR_POLICY_FETCH_FAILED', `policy read failed: ${toDmrError(error).message}`, { cause: error });
  }
}

/** The control plane's answer carries the document as JSON text: room for the largest document and its envelope. */
function answerLimit(): number {
  return MAX_POLICY_DOCUMENT_BYTES + 64 * 1024;
}

/** UTF-8 (fatal: non-UTF-8 bytes are refused before parsing) JSON text → value; DMR_POLICY_INVALID otherwise. */
function parseJson(bytes: Buffer, origin: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new DmrError('DMR_POLICY_INVALID', `the policy from ${origin} is not UTF-8 JSON: ${(error as Error).message}`, { cause: error });
  }
}

function controlAnswerOf(answer: unknown): PolicyData {
  const record = (typeof answer === 'object' && answer !== null ? answer : {}) as { version?: unknown; document?: unknown };
  if (!Number.isSafeInteger(record.version) || (record.version as number) < 1 || record.document === undefined) {
    throw new DmrError('DMR_POLICY_INVALID', 'the control plane answered without an integer version and a document');
  }
  return { version: record.version as number, document: record.document };
}
