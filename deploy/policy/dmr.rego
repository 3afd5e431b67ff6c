# DMR's policy decision in Rego (docs/policy.md, the contract): the same decisions as the built-in engine
# (@dmr/shared/policy) over the same dmr-policy/v1 document.
#
#   data.dmr.policy         the dmr-policy/v1 document, already validated (dmr-control or the server refuse a bad one)
#   data.dmr.policyVersion  the version that decides
#   data.dmr.index          the rule index built from the policy by buildRegoIndex (@dmr/shared/policy): every loader
#                           sets it; without it (hand-written unit tests) every rule is scanned, which is too slow
#                           for large documents (docs/policy.md "Rego and OPA")
#   input                   PolicyInput: sender, recipient, message.type, time.{weekday, minuteOfDay}
#
# Query `data.dmr.decision` (sidecar: POST /v1/data/dmr/decision; wasm: `opa build -t wasm -e dmr/decision`).
# It only uses built-ins that OPA's wasm target implements natively, so the opa-wasm engine needs no JS built-ins.
package dmr

# No document in force: allowed, as DMR was before policy existed.
default decision := {"allow": true, "reason": "NO_POLICY", "policyVersion": 0}

# Deny wins: the first matching deny rule in document order decides; then the first matching allow rule; then the
# document's defaultDecision.
decision := {"allow": false, "reason": "DENY_RULE", "ruleId": data.dmr.policy.rules[i].id, "policyVersion": policy_version} if {
	i := min(deny_indices)
} else := {"allow": true, "reason": "ALLOW_RULE", "ruleId": data.dmr.policy.rules[i].id, "policyVersion": policy_version} if {
	i := min(allow_indices)
} else := {"allow": true, "reason": "DEFAULT_ALLOW", "policyVersion": policy_version} if {
	data.dmr.policy.defaultDecision == "allow"
} else := {"allow": false, "reason": "DEFAULT_DENY", "policyVersion": policy_version} if {
	data.dmr.policy.defaultDecision == "deny"
}

# Set by every loader with the document (dmr-control's bundle, the opa-wasm engine).
default policy_version := 0

policy_version := data.dmr.policyVersion

# Indices of the matching rules, then of the matching deny and allow rules: sets of indices, so `min` gives the
# first one in document order. With the index, only the candidate rules it gives (both sides already match) are
# checked for type and window; without it, one pass over all rules.
matching_indices contains i if {
	some i in indexed_candidates
	rule := data.dmr.policy.rules[i]
	type_matches(rule)
	window_matches(rule)
}

matching_indices contains i if {
	not data.dmr.index
	some i, rule in data.dmr.policy.rules
	rule_matches(rule)
}

# --- indexed lookup (data.dmr.index, see buildRegoIndex) ---------------------------------------------------------
# Candidates: rules with both selectors found under the sender's keys in `from` and the recipient's in `to`; rules
# with one selector found under that party's keys (`fromOnly`, `toOnly`); rules with neither (`any`). Looked up by
# the parties' keys only, so the cost follows the rules naming the two parties, not the document's size. All sets
# are complete rules (evaluated once) read through references into data (never `data.dmr.index.from` as a value),
# so OPA looks single keys up instead of materialising the index.
indexed_candidates := (((lookup(sender_keys, "from") & lookup(recipient_keys, "to")) | lookup(sender_keys, "fromOnly")) | lookup(recipient_keys, "toOnly")) | {i | some i in data.dmr.index.any}

lookup(keys, list) := {i | some key in keys; some i in data.dmr.index[list][key]}

sender_keys := party_keys(input.sender)

recipient_keys := party_keys(input.recipient)

# The party's index keys: its id, institution and registry groups, and the policy groups those imply (already
# transitive in the index).
party_keys(party) := keys if {
	direct := {concat("", ["a:", party.id]), concat("", ["i:", party.institution])} | {concat("", ["g:", name]) |
		some name in party.groups
	}
	keys := direct | {concat("", ["g:", name]) | some key in direct; some name in data.dmr.index.groups[key]}
}

# --- full scan (no index) ----------------------------------------------------------------------------------------

deny_indices contains i if {
	some i in matching_indices
	data.dmr.policy.rules[i].effect == "deny"
}

allow_indices contains i if {
	some i in matching_indices
	data.dmr.policy.rules[i].effect == "allow"
}

rule_matches(rule) if {
	side_matches(rule, "from", input.sender, sender_groups)
	side_matches(rule, "to", input.recipient, recipient_groups)
	type_matches(rule)
	window_matches(rule)
}

# An absent selector matches everyone; a present one when any of its lists holds the party (selectors are objects,
# never false, so `not rule[side]` means absent). The else chain stops at the first list that holds it.
side_matches(rule, side, _, _) if not rule[side]

side_matches(rule, side, party, member_of) if selector_holds(rule[side], party, member_of)

selector_holds(selector, party, member_of) if {
	party.id in selector.agents
} else if {
	party.institution in selector.institutions
} else if {
	some group in selector.groups
	member_of[group]
}

type_matches(rule) if not rule.types

type_matches(rule) if input.message.type in rule.types

window_matches(rule) if not rule.window

window_matches(rule) if {
	days_match(rule.window)
	clock_matches(rule.window)
}

days_match(window) if not window.days

days_match(window) if input.time.weekday in window.days

# `from` and `to` come together (the document is validated); no clock means all day.
clock_matches(window) if not window.from

# [from, to): start inclusive, end exclusive; from > to wraps past midnight (from == to is refused at load).
clock_matches(window) if {
	start := minute_of(window.from)
	end := minute_of(window.to)
	start < end
	start <= input.time.minuteOfDay
	input.time.minuteOfDay < end
}

clock_matches(window) if {
	start := minute_of(window.from)
	end := minute_of(window.to)
	start > end
	wrapped_clock_matches(start, end, input.time.minuteOfDay)
}

wrapped_clock_matches(start, _, minute) if minute >= start

wrapped_clock_matches(_, end, minute) if minute < end

# "HH:MM" → minutes since midnight.
minute_of(clock) := (to_number(substring(clock, 0, 2)) * 60) + to_number(substring(clock, 3, 2))

# Group membership (docs/policy.md "Groups"): a party is a member of G when G is among its registry groups, or the
# policy defines G and lists its id, its institution, or a group it is a member of (nesting is at most 8 deep and
# cycle-free, checked at load). Transitive closure over "child is named in parent's groups".
sender_groups := member_groups(input.sender)

recipient_groups := member_groups(input.recipient)

member_groups(party) := graph.reachable(group_parents, direct_groups(party))

direct_groups(party) := {name | some name in party.groups} | {name |
	some name, group in policy_groups
	defined_member(group, party)
}

defined_member(group, party) if party.id in group.agents

defined_member(group, party) if party.institution in group.institutions

policy_groups := object.get(data.dmr.policy, "groups", {})

# Every group name the policy names (defined or nested) or a party carries → the defined groups that name it.
# graph.reachable only follows nodes that are keys of the graph, hence every name is a key (with no parents: {}).
group_parents := {name: object.get(parents_by_child, name, set()) | some name in group_names}

# child → the defined groups naming it in their `groups`, in one pass over the groups.
parents_by_child[child] contains parent if {
	some parent, group in policy_groups
	some child in group.groups
}

group_names := (({name | some name, _ in policy_groups} | {name |
	some _, group in policy_groups
	some name in group.groups
}) | {name | some name in input.sender.groups}) | {name | some name in input.recipient.groups}
