/**
 * Reading PEM bundles as an operator builds them: `cat old-ca.pem new-ca.pem > bundle.pem` during a CA change-over.
 * OpenSSL reads PEM line by line, so a file without its final newline glues `-----END CERTIFICATE-----` to the next
 * `-----BEGIN CERTIFICATE-----` and every certificate after the seam is silently dropped from the trust store. These
 * functions find the blocks wherever they start and write each one out again in canonical form. Pure: no I/O, and no
 * X.509 parsing (so the agent can use them without loading @peculiar/x509).
 */

/** One PEM block: its label (`CERTIFICATE`, `X509 CRL` …) and its base64 body without whitespace. */
export interface PemBlock {
  readonly label: string;
  readonly base64: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64_LINE = /.{1,64}/g;

/**
 * Every PEM block in `text`, in order, whatever separates them (nothing, CRLF, blank lines, OpenSSL's `subject=`
 * comment lines, which are ignored as OpenSSL ignores them). A block whose body is not plain base64 (an encrypted
 * key's RFC 1421 headers, garbage) is returned with `base64: ''`, so callers can tell "there was a block but it is
 * broken" from "there was none".
 */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const body = (match[2] ?? '').replace(/\s+/g, '');
    blocks.push({ label: match[1] as string, base64: BASE64_BODY.test(body) ? body : '' });
  }
  return blocks;
}

/** `block` in canonical PEM: 64-column lines and a final newline, so files made of these concatenate safely. */
export function formatPemBlock(block: PemBlock): string {
  const lines = block.base64.match(BASE64_LINE) ?? [];
  return `-----BEGIN ${block.label}-----\n${lines.join('\n')}\n-----END ${block.label}-----\n`;
}

/**
 * The certificates of a PEM bundle, each in canonical PEM (what Node's `ca` option takes as an array). Blocks of
 * other labels are skipped; a `CERTIFICATE` block whose body is not base64 is returned as an empty string, so that a
 * caller that parses each one reports it instead of trusting fewer CAs than the file names.
 */
export function pemCertificates(text: string): string[] {
  return pemBlocks(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => (block.base64 === '' ? '' : formatPemBlock(block)));
}

/** `pem` with a final newline: every PEM file DMR writes ends with one, so `cat a.pem b.pem` is a valid bundle. */
export function withFinalNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
