// The policy document (`format: "dmr-policy/v1"`, docs/policy.md "The policy document"): its types and limits. Pure.

import type { PolicyWeekday } from './types.js';

/** The one document format this engine reads. */
export const POLICY_FORMAT = 'dmr-policy/v1';
/** Largest policy document, bytes of its UTF-8 JSON text (8 MiB; holds 10 000 typical rules). */
export const MAX_POLICY_BYTES = 8 * 1024 * 1024;
/** Most rules in one document. */
export const MAX_POLICY_RULES = 50_000;
/** Most policy groups in one document. */
export const MAX_POLICY_GROUPS = 1000;
/** Deepest nesting of policy groups (a group naming a group naming a group … counts one per level). */
export const MAX_POLICY_GROUP_DEPTH = 8;
/** Longest `description`, characters. */
export const MAX_POLICY_DESCRIPTION_LENGTH = 1024;
/** Names of groups and rules, and the ids and institutions selectors name. */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Who a rule applies to on one side; matches when any list contains the party. */
export interface PolicySelector {
  readonly agents?: readonly string[];
  readonly institutions?: readonly string[];
  readonly groups?: readonly string[];
}

/** A policy group's members (docs/policy.md "Groups"). */
export type PolicyGroup = PolicySelector;

/** When a rule applies, in the document's time zone; `from`/`to` are `HH:MM`, start inclusive, end exclusive. */
export interface PolicyWindow {
  readonly days?: readonly PolicyWeekday[];
  readonly from?: string;
  readonly to?: string;
}

/** One rule; it matches when `from`, `to`, `types` and `window` all match. */
export interface PolicyRule {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly from?: PolicySelector;
  readonly to?: PolicySelector;
  readonly types?: readonly string[];
  readonly window?: PolicyWindow;
  readonly description?: string;
}

/** A validated `dmr-policy/v1` document. */
export interface PolicyDocument {
  readonly format: typeof POLICY_FORMAT;
  readonly defaultDecision: 'allow' | 'deny';
  readonly timeZone?: string;
  readonly version?: number;
  readonly description?: string;
  readonly groups?: Readonly<Record<string, PolicyGroup>>;
  readonly rules: readonly PolicyRule[];
}

/** The outcome of parsing: the document, or the first bad field as a dotted path (`rules.17.window.from`). */
export type PolicyParseResult =
  | { readonly ok: true; readonly document: PolicyDocument }
  | { readonly ok: false; readonly field: string; readonly message: string };
