import { readFile } from 'node:fs/promises';
import { DmrError } from '@dmr/shared';
import { sendControlRequest } from '../control/index.js';

/** Where the CRL bundle comes from: `DMR_TLS_CRL_FILE` or `DMR_TLS_CRL_URL`. */
export interface CrlSource {
  /** The variable that names it, for log lines and operator messages. */
  readonly variable: 'DMR_TLS_CRL_FILE' | 'DMR_TLS_CRL_URL';
  readonly location: string;
  /** The bundle's bytes. Throws DMR_CA_IO_FAILED (file) or DMR_CA_CRL_FETCH_FAILED (URL). */
  read(): Promise<Buffer>;
}

/** A bundle of one CRL per CA is a few KiB per CA (plus 40 bytes per revoked certificate): far beyond this is not a CRL bundle. */
const MAX_CRL_BUNDLE_BYTES = 16 * 1024 * 1024;

/** The CRL bundle file, read whole on every call. */
export function fileCrlSource(path: string): CrlSource {
  return {
    variable: 'DMR_TLS_CRL_FILE',
    location: path,
    read: async () => {
      try {
        return await readFile(path);
      } catch (error) {
        throw new DmrError('DMR_CA_IO_FAILED', `cannot read the CRL file: ${(error as Error).message}`, { cause: error });
      }
    },
  };
}

/** How the CRL URL is fetched. */
export interface CrlFetchOptions {
  readonly timeoutMs: number;
  /** PEM CA bundle trusted for an https URL (`DMR_CONTROL_CA_FILE`); Node's root store when unset. */
  readonly caFile: string | undefined;
}

/** dmr-control's `GET /v1/crl` (or any URL serving the bundle): a 2xx body is the bundle. */
export function urlCrlSource(url: string, options: CrlFetchOptions): CrlSource {
  return {
    variable: 'DMR_TLS_CRL_URL',
    location: url,
    read: async () => {
      let status: number;
      let body: Buffer;
      try {
        ({ status, body } = await sendControlRequest({
          method: 'GET',
          url,
          timeoutMs: options.timeoutMs,
          tls: { caFile: options.caFile },
          maxBytes: MAX_CRL_BUNDLE_BYTES,
          accept: 'application/x-pem-file, application/pkix-crl',
        }));
      } catch (error) {
        throw new DmrError('DMR_CA_CRL_FETCH_FAILED', `CRL bundle unreachable at ${url}: ${(error as Error).message}`, { cause: error });
      }
      if (status < 200 || status >= 300) throw new DmrError('DMR_CA_CRL_FETCH_FAILED', `CRL bundle at ${url} answered HTTP ${status}`);
      return body;
    },
  };
}
