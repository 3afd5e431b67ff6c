# Unit tests of dmr.rego, one per point of docs/policy.md (run: .tools/bin/opa test deploy/policy -v).
package dmr_test

import data.dmr

# --- inputs -------------------------------------------------------------------------------------------------------

party(id, institution, groups) := {"id": id, "institution": institution, "groups": groups}

msg(sender, recipient, type, weekday, minute) := {
	"sender": object.union(sender, {"certificate": null}),
	"recipient": recipient,
	"message": {"type": type},
	"time": {"unixMs": 1796630400000, "weekday": weekday, "minuteOfDay": minute},
}

tax := party("tax-bot", "EMTA", ["tax", "gov"])

police := party("police-bot", "PPA", ["police"])

rescue := party("rescue-bot", "", [])

chat(sender, recipient) := msg(sender, recipient, "ChatMessage", "mon", 540)

at(weekday, minute) := msg(tax, police, "ChatMessage", weekday, minute)

doc(default_decision, rules) := {"format": "dmr-policy/v1", "defaultDecision": default_decision, "rules": rules}

decide(policy, message) := d if {
	d := dmr.decision with data.dmr.policy as policy with data.dmr.policyVersion as 7 with input as message
}

allow_rule(id, extra) := object.union({"id": id, "effect": "allow"}, extra)

deny_rule(id, extra) := object.union({"id": id, "effect": "deny"}, extra)

rule_id(policy, message) := object.get(decide(policy, message), "ruleId", "-")

# --- no policy, defaults ------------------------------------------------------------------------------------------

test_no_policy_allows_with_version_0 if {
	d := dmr.decision with input as chat(tax, police)
	d == {"allow": true, "reason": "NO_POLICY", "policyVersion": 0}
}

test_no_policy_ignores_a_stray_version if {
	d := dmr.decision with input as chat(tax, police) with data.dmr.policyVersion as 3
	d == {"allow": true, "reason": "NO_POLICY", "policyVersion": 0}
}

test_default_deny_without_rules if {
	decide(doc("deny", []), chat(tax, police)) == {"allow": false, "reason": "DEFAULT_DENY", "policyVersion": 7}
}

test_default_allow_without_rules if {
	decide(doc("allow", []), chat(tax, police)) == {"allow": true, "reason": "DEFAULT_ALLOW", "policyVersion": 7}
}

test_default_when_no_rule_matches if {
	policy := doc("deny", [allow_rule("a", {"from": {"agents": ["someone-else"]}})])
	decide(policy, chat(tax, police)) == {"allow": false, "reason": "DEFAULT_DENY", "policyVersion": 7}
}

test_policy_version_is_the_data_version if {
	d := dmr.decision with data.dmr.policy as doc("allow", []) with data.dmr.policyVersion as 42
		with input as chat(tax, police)
	d.policyVersion == 42
}

# --- deny wins, document order ------------------------------------------------------------------------------------

test_deny_wins_over_an_earlier_allow if {
	policy := doc("allow", [allow_rule("a1", {}), deny_rule("d1", {})])
	decide(policy, chat(tax, police)) == {"allow": false, "reason": "DENY_RULE", "ruleId": "d1", "policyVersion": 7}
}

test_first_matching_deny_in_document_order if {
	policy := doc("allow", [
		deny_rule("d-other", {"from": {"agents": ["nobody"]}}),
		deny_rule("d-first", {"to": {"agents": ["police-bot"]}}),
		deny_rule("d-second", {}),
	])
	rule_id(policy, chat(tax, police)) == "d-first"
}

test_first_matching_allow_in_document_order if {
	policy := doc("deny", [
		allow_rule("a-other", {"to": {"agents": ["nobody"]}}),
		allow_rule("a-first", {"from": {"institutions": ["EMTA"]}}),
		allow_rule("a-second", {}),
	])
	decide(policy, chat(tax, police)) == {"allow": true, "reason": "ALLOW_RULE", "ruleId": "a-first", "policyVersion": 7}
}

test_allow_rule_on_default_allow_still_names_the_rule if {
	policy := doc("allow", [allow_rule("a", {})])
	decide(policy, chat(tax, police)).reason == "ALLOW_RULE"
}

# --- selectors ----------------------------------------------------------------------------------------------------

test_absent_selectors_match_everyone if {
	policy := doc("deny", [allow_rule("all", {})])
	rule_id(policy, chat(rescue, tax)) == "all"
}

test_selector_by_agent if {
	policy := doc("deny", [allow_rule("a", {"from": {"agents": ["tax-bot"]}, "to": {"agents": ["police-bot"]}})])
	rule_id(policy, chat(tax, police)) == "a"
	rule_id(policy, chat(police, tax)) == "-"
}

test_selector_by_institution if {
	policy := doc("deny", [allow_rule("a", {"to": {"institutions": ["PPA"]}})])
	rule_id(policy, chat(tax, police)) == "a"
	rule_id(policy, chat(police, tax)) == "-"
}

test_selector_matches_when_any_list_holds_the_party if {
	policy := doc("deny", [allow_rule("a", {"from": {"agents": ["nobody"], "institutions": ["nowhere"], "groups": ["tax"]}})])
	rule_id(policy, chat(tax, police)) == "a"
	rule_id(policy, chat(police, tax)) == "-"
}

test_empty_lists_in_a_selector_match_nobody if {
	policy := doc("deny", [allow_rule("a", {"from": {"agents": [], "groups": []}})])
	rule_id(policy, chat(tax, police)) == "-"
}

test_empty_institution_is_not_a_wildcard if {
	policy := doc("deny", [allow_rule("a", {"from": {"institutions": ["EMTA"]}})])
	rule_id(policy, chat(rescue, police)) == "-"
}

# --- groups -------------------------------------------------------------------------------------------------------

test_registry_group_not_defined_by_the_policy if {
	policy := doc("deny", [allow_rule("a", {"from": {"groups": ["gov"]}})])
	rule_id(policy, chat(tax, police)) == "a"
	rule_id(policy, chat(police, tax)) == "-"
}

test_registry_group_also_counts_for_a_defined_group if {
	policy := object.union(doc("deny", [allow_rule("a", {"from": {"groups": ["tax"]}})]), {"groups": {"tax": {"agents": ["nobody"]}}})
	rule_id(policy, chat(tax, police)) == "a"
}

test_policy_group_by_agent_and_institution if {
	policy := object.union(
		doc("deny", [allow_rule("a", {"to": {"groups": ["responders"]}})]),
		{"groups": {"responders": {"agents": ["rescue-bot"], "institutions": ["PPA"]}}},
	)
	rule_id(policy, chat(tax, rescue)) == "a"
	rule_id(policy, chat(tax, police)) == "a"
	rule_id(policy, chat(police, tax)) == "-"
}

test_empty_policy_group_has_no_members if {
	policy := object.union(doc("deny", [allow_rule("a", {"from": {"groups": ["empty"]}})]), {"groups": {"empty": {}}})
	rule_id(policy, chat(tax, police)) == "-"
}

test_nested_policy_groups_are_transitive if {
	policy := object.union(doc("deny", [allow_rule("a", {"from": {"groups": ["gov-all"]}})]), {"groups": {
		"gov-all": {"groups": ["gov-mid"]},
		"gov-mid": {"groups": ["gov-low"]},
		"gov-low": {"agents": ["rescue-bot"]},
	}})
	rule_id(policy, chat(rescue, tax)) == "a"
	rule_id(policy, chat(police, tax)) == "-"
}

test_nested_registry_group_inside_a_policy_group if {
	policy := object.union(doc("deny", [deny_rule("d", {"to": {"groups": ["outer"]}})]), {"groups": {
		"outer": {"groups": ["inner"]},
		"inner": {"groups": ["police"]},
	}})
	rule_id(policy, chat(tax, police)) == "d"
	rule_id(policy, chat(police, tax)) == "-"
}

test_eight_levels_of_nesting if {
	groups := {sprintf("g%d", [n]): {"groups": [sprintf("g%d", [n + 1])]} | some n in numbers.range(0, 6)}
	policy := object.union(
		doc("deny", [allow_rule("deep", {"from": {"groups": ["g0"]}})]),
		{"groups": object.union(groups, {"g7": {"institutions": ["EMTA"]}})},
	)
	rule_id(policy, chat(tax, police)) == "deep"
	rule_id(policy, chat(police, tax)) == "-"
}

test_membership_does_not_flow_downwards if {
	policy := object.union(doc("deny", [allow_rule("a", {"from": {"groups": ["child"]}})]), {"groups": {
		"parent": {"groups": ["child"], "agents": ["tax-bot"]},
		"child": {"agents": ["rescue-bot"]},
	}})
	rule_id(policy, chat(tax, police)) == "-"
	rule_id(policy, chat(rescue, police)) == "a"
}

test_sender_and_recipient_groups_are_separate if {
	policy := doc("deny", [allow_rule("a", {"from": {"groups": ["police"]}, "to": {"groups": ["tax"]}})])
	rule_id(policy, chat(police, tax)) == "a"
	rule_id(policy, chat(tax, police)) == "-"
}

# --- message types ------------------------------------------------------------------------------------------------

test_types if {
	policy := doc("deny", [allow_rule("a", {"types": ["ChatMessage", "Ping"]})])
	rule_id(policy, msg(tax, police, "ChatMessage", "mon", 0)) == "a"
	rule_id(policy, msg(tax, police, "Ping", "mon", 0)) == "a"
	rule_id(policy, msg(tax, police, "chatmessage", "mon", 0)) == "-"
}

# --- time windows -------------------------------------------------------------------------------------------------

office := doc("deny", [allow_rule("office", {"window": {"days": ["mon", "fri"], "from": "08:00", "to": "18:00"}})])

test_window_start_is_inclusive if rule_id(office, at("mon", 480)) == "office"

test_window_end_is_exclusive if {
	rule_id(office, at("mon", 1079)) == "office"
	rule_id(office, at("mon", 1080)) == "-"
	rule_id(office, at("mon", 479)) == "-"
}

test_window_days if {
	rule_id(office, at("fri", 600)) == "office"
	rule_id(office, at("tue", 600)) == "-"
	rule_id(office, at("sun", 600)) == "-"
}

night := doc("allow", [deny_rule("night", {"window": {"from": "22:30", "to": "06:00"}})])

test_window_wraps_past_midnight if {
	rule_id(night, at("wed", 1350)) == "night"
	rule_id(night, at("wed", 1439)) == "night"
	rule_id(night, at("wed", 0)) == "night"
	rule_id(night, at("wed", 359)) == "night"
	rule_id(night, at("wed", 360)) == "-"
	rule_id(night, at("wed", 1349)) == "-"
	rule_id(night, at("wed", 720)) == "-"
}

test_window_days_only if {
	policy := doc("allow", [deny_rule("weekend", {"window": {"days": ["sat", "sun"]}})])
	rule_id(policy, at("sat", 0)) == "weekend"
	rule_id(policy, at("sun", 1439)) == "weekend"
	rule_id(policy, at("fri", 1439)) == "-"
}

test_window_clock_only_every_day if {
	policy := doc("deny", [allow_rule("day", {"window": {"from": "00:00", "to": "23:59"}})])
	rule_id(policy, at("sun", 0)) == "day"
	rule_id(policy, at("thu", 1438)) == "day"
	rule_id(policy, at("thu", 1439)) == "-"
}

test_window_wrap_checks_the_routing_day if {
	policy := doc("allow", [deny_rule("fri-night", {"window": {"days": ["fri"], "from": "22:00", "to": "02:00"}})])
	rule_id(policy, at("fri", 1380)) == "fri-night"
	rule_id(policy, at("fri", 60)) == "fri-night"
	rule_id(policy, at("sat", 60)) == "-"
}

# --- everything together ------------------------------------------------------------------------------------------

contract_example := {
	"format": "dmr-policy/v1",
	"defaultDecision": "deny",
	"timeZone": "Europe/Tallinn",
	"groups": {
		"gov": {"agents": ["tax-bot"], "institutions": ["PPA"], "groups": ["frontline"]},
		"frontline": {"agents": ["rescue-bot"]},
	},
	"rules": [
		{"id": "citizens-to-police", "effect": "allow", "from": {"groups": ["gov"]}, "to": {"agents": ["police-bot"]}},
		{"id": "no-night-tax", "effect": "deny", "to": {"institutions": ["EMTA"]}, "window": {"days": ["sat", "sun"]}},
		{
			"id": "office-hours",
			"effect": "allow",
			"from": {"institutions": ["EMTA"]},
			"types": ["ChatMessage"],
			"window": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:00"},
		},
	],
}

test_contract_example if {
	rule_id(contract_example, chat(rescue, police)) == "citizens-to-police"
	rule_id(contract_example, msg(police, tax, "ChatMessage", "sat", 600)) == "no-night-tax"
	rule_id(contract_example, msg(tax, rescue, "ChatMessage", "tue", 600)) == "office-hours"
	decide(contract_example, msg(tax, rescue, "Other", "tue", 600)).reason == "DEFAULT_DENY"
	decide(contract_example, msg(police, rescue, "ChatMessage", "tue", 600)).reason == "DEFAULT_DENY"
}

# --- indexed lookup (data.dmr.index) ------------------------------------------------------------------------------
# testdata/indexed/data.json: a small document and the index buildRegoIndex (@dmr/shared/policy) builds for it
# (test/e2e/policy-rego.test.ts fails when the committed index drifts from what the function builds).

fixture := data.testdata.indexed

indexed(message) := d if {
	d := dmr.decision with data.dmr.policy as fixture.policy
		with data.dmr.policyVersion as 7
		with data.dmr.index as fixture.index
		with input as message
}

scanned(message) := decide(fixture.policy, message)

desk := party("desk", "PPA", [])

dispatcher := party("dispatcher", "", ["dispatch"])

indexed_rule(message) := object.get(indexed(message), "ruleId", "-")

test_indexed_nested_groups_through_institution_and_agent if {
	indexed(chat(tax, police)) == {"allow": true, "reason": "ALLOW_RULE", "ruleId": "allow-agencies", "policyVersion": 7}
}

test_indexed_deny_wins_over_an_earlier_allow if {
	indexed_rule(msg(tax, police, "Alert", "mon", 540)) == "deny-tax-alerts"
}

test_indexed_rule_naming_a_party_twice if {
	indexed_rule(msg(tax, rescue, "ChatMessage", "sat", 540)) == "deny-weekend"
}

test_indexed_rules_without_selectors if {
	indexed_rule(msg(rescue, desk, "ChatMessage", "tue", 1380)) == "deny-night"
}

test_indexed_registry_group_inside_policy_groups if {
	indexed_rule(chat(dispatcher, police)) == "allow-agencies"
	indexed_rule(chat(dispatcher, desk)) == "allow-dispatch"
}

test_indexed_default_when_no_candidate_matches if {
	indexed(chat(rescue, tax)) == {"allow": false, "reason": "DEFAULT_DENY", "policyVersion": 7}
}

# With an index present only its candidates are checked: an empty index finds no rule, the full scan does.
test_indexed_path_is_taken_when_an_index_is_present if {
	d := dmr.decision with data.dmr.policy as fixture.policy
		with data.dmr.policyVersion as 7
		with data.dmr.index as {"from": {}, "to": {}, "groups": {}}
		with input as chat(tax, police)
	d.reason == "DEFAULT_DENY"
	scanned(chat(tax, police)).ruleId == "allow-agencies"
}

# Every sender × recipient × (type, day, minute) the fixture's rules tell apart; split in two (opa test -v traces
# every step, and each test has its own timeout).
indexed_agrees_with_scan(senders) if {
	messages := [msg(s, r, when[0], when[1], when[2]) |
		some s in senders
		some r in [tax, police, rescue, desk, dispatcher]
		some when in [["ChatMessage", "mon", 540], ["Alert", "mon", 540], ["ChatMessage", "sat", 540], ["Alert", "tue", 1380]]
	]
	count(messages) == count(senders) * 20
	every message in messages {
		indexed(message) == scanned(message)
	}
}

test_indexed_lookup_decides_as_the_full_scan_for_agency_senders if indexed_agrees_with_scan([tax, police, rescue])

test_indexed_lookup_decides_as_the_full_scan_for_other_senders if indexed_agrees_with_scan([desk, dispatcher])
