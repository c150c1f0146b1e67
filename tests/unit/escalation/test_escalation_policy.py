import copy

import pytest
import yaml
from importlib import resources

from escalation.domain.policy import PolicyError, load_policy, parse_policy

from unit.escalation.escalation_unit_kit import POLICY


def raw():
    return yaml.safe_load(resources.files("escalation").joinpath("policies/default.yaml").read_text("utf-8"))


def test_default_policy_is_a_us_telecom():
    p = load_policy()
    assert p.version and p.intake_queue == "frontline" and p.queues["frontline"].always_open
    billing = p.queues["billing"]
    assert billing.timezone == "America/New_York" and billing.holidays.country == "US"
    assert billing.after_hours_alternative == "billing-escalations"
    assert p.queues["billing-escalations"].on_call
    assert p.regulatory.senior_owner == "dana.senior" and p.regulatory.priority == p.priorities[0]
    assert p.repeat_contacts.count == 3


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d.update(intake_queue="nowhere"), "intake_queue: unknown queue 'nowhere'"),
    (lambda d: d["queues"]["billing"].update(timezone="Mars/Base"), "queues.billing.timezone"),
    (lambda d: d["queues"]["billing"]["hours"]["mon"][0].update(start="9am"), "queues.billing.hours.mon.0.start"),
    (lambda d: d["queues"]["billing"]["hours"]["mon"][0].update(start="18:00"), "start 18:00 must be before end"),
    (lambda d: d["sla"]["targets"].pop("P2"), "sla.targets: missing targets for priority 'P2'"),
    (lambda d: d["approvals"]["people"].update(bob="wizard"), "approvals.people.bob: unknown role 'wizard'"),
    (lambda d: d["approvals"]["authority"]["agent"]["refund"].update(usd=1), "currency 'usd'"),
    (lambda d: d.update(intake_queue="billing"), "intake_queue: must be an always_open queue"),
    (lambda d: d["sla"].update(warn_at=1.5), "sla.warn_at"),
    (lambda d: d.pop("version"), "version: Field required"),
    (lambda d: d["queues"]["billing"].update(colour="red"), "queues.billing.colour"),
])
def test_invalid_policy_errors_name_the_field(mutate, expected):
    data = copy.deepcopy(raw())
    mutate(data)
    with pytest.raises(PolicyError) as err:
        parse_policy(data)
    assert expected in str(err.value)


def test_policy_top_level_must_be_a_mapping():
    with pytest.raises(PolicyError, match="expected a mapping"):
        parse_policy(["not", "a", "policy"])


def test_authority_lookup():
    assert POLICY.limit("a-01", "refund", "USD") == 5000
    assert POLICY.limit("a-01", "refund", "EUR") is None
    assert POLICY.limit("stranger", "refund", "USD") is None
