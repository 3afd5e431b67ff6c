import type { CrlHealth, VerifiedCrl } from '@dmr/shared/pki';

/** Where the CRLs come from, for the advice in the text. */
export interface CrlOrigin {
  readonly variable: 'DMR_TLS_CRL_FILE' | 'DMR_TLS_CRL_URL';
  /** Why the last read of the source failed, if it did. */
  readonly readFailure: string | undefined;
}

/**
 * What `/v1/ready`'s `detail.crl` and the health log lines say about the worst CRL in force: when it goes or went bad,
 * for which CA, and what the operator does about it. Pure.
 */
export function describeCrlHealth(health: CrlHealth, crl: VerifiedCrl | undefined, origin: CrlOrigin): string {
  const next = crl?.snapshot.nextUpdate?.toISOString() ?? 'never';
  const ca = crl ? ` (${crl.ca.subject})` : '';
  const failing = origin.readFailure ? `; the last read of ${origin.variable} failed: ${origin.readFailure}` : '';
  const fix =
    origin.variable === 'DMR_TLS_CRL_URL'
      ? 'DMR_TLS_CRL_URL must serve a newer CRL for that CA (dmr-control republishes it well before nextUpdate)'
      : 'publish a new CRL for that CA to DMR_TLS_CRL_FILE';
  switch (health) {
    case 'expiring':
      return `CRL in force${ca} expires at ${next}: ${fix} before then, or TLS refuses every agent of that CA${failing}`;
    case 'expired':
      return `CRL in force${ca} expired at ${next}: TLS refuses every agent certificate of that CA until ${fix}${failing}`;
    case 'not-yet-valid':
      return `CRL in force${ca} is valid only from ${crl?.snapshot.thisUpdate.toISOString()}: TLS refuses every agent certificate of that CA until then`;
    default:
      return `CRL ${health}`;
  }
}
