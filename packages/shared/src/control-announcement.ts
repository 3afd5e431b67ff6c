/**
 * The `dmr.control` announcement (design.md "RabbitMQ topology", docs/control-plane.md "Config version and push"):
 * dmr-control publishes one after every committed write; servers re-sync on it. Announcements are hints, so a
 * reader that cannot parse one ignores it and keeps polling. Pure.
 */

/** Fanout exchange of the control plane's announcements (durable; each server binds its own exclusive queue). */
export const CONTROL_EXCHANGE = 'dmr.control';

/** What changed: `registry` → re-fetch the CentOps configuration, `crl` → the CRL, `policy` → the policy, `peers` → peers. */
export const CONTROL_ANNOUNCEMENT_KINDS = ['registry', 'crl', 'policy', 'peers'] as const;

/** One of {@link CONTROL_ANNOUNCEMENT_KINDS}. */
export type ControlAnnouncementKind = (typeof CONTROL_ANNOUNCEMENT_KINDS)[number];

/** The body of one announcement (JSON). */
export interface ControlAnnouncement {
  /** The configVersion the committed write produced. */
  readonly configVersion: number;
  /** What the write changed; never empty. */
  readonly kinds: readonly ControlAnnouncementKind[];
  /** When it was committed (ISO 8601 UTC). */
  readonly at: string;
}

/** The announcement in `body`, or undefined when it is not one (a reader ignores it: announcements are hints). */
export function parseControlAnnouncement(body: Buffer | string): ControlAnnouncement | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { configVersion, kinds, at } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(configVersion) || (configVersion as number) < 0) return undefined;
  if (!Array.isArray(kinds) || kinds.length === 0 || !kinds.every(isAnnouncementKind)) return undefined;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return undefined;
  return { configVersion: configVersion as number, kinds, at };
}

function isAnnouncementKind(value: unknown): value is ControlAnnouncementKind {
  return (CONTROL_ANNOUNCEMENT_KINDS as readonly unknown[]).includes(value);
}
