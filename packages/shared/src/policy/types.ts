// The policy decision's input and output (docs/policy.md): OPA Data API shapes, the same for every engine. Pure types.

/** Why a decision came out as it did (docs/policy.md "Output"). */
export type PolicyReason = 'ALLOW_RULE' | 'DENY_RULE' | 'DEFAULT_ALLOW' | 'DEFAULT_DENY' | 'NO_POLICY';

/** Days as the input and the document name them, Monday first. */
export const POLICY_WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type PolicyWeekday = (typeof POLICY_WEEKDAYS)[number];

/** One side of a message as the registry describes it. */
export interface PolicyParty {
  readonly id: string;
  /** The registry's institution, `''` when it has none. */
  readonly institution: string;
  /** The registry entry's groups, `[]` when it has none. */
  readonly groups: readonly string[];
}

/** The identity of the sender's client certificate; `null` for a seed-003 token handshake without one. */
export interface PolicyCertificate {
  readonly subject: string;
  readonly serial: string;
}

/** When the server routed the message, in the document's `timeZone`. */
export interface PolicyTime {
  readonly unixMs: number;
  readonly weekday: PolicyWeekday;
  /** 0–1439. */
  readonly minuteOfDay: number;
}

/** `input` of the OPA Data API request: metadata and registry attributes only, never content. */
export interface PolicyInput {
  readonly sender: PolicyParty & { readonly certificate: PolicyCertificate | null };
  readonly recipient: PolicyParty;
  readonly message: { readonly type: string };
  readonly time: PolicyTime;
}

/** `result` of the OPA Data API response. */
export interface PolicyDecision {
  readonly allow: boolean;
  readonly reason: PolicyReason;
  /** The deciding rule; set exactly when `reason` is ALLOW_RULE or DENY_RULE. */
  readonly ruleId?: string;
  /** The document version that decided; 0 with NO_POLICY. */
  readonly policyVersion: number;
}
