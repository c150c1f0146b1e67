import pytest

from notify.adapters.config_files import load_directory, load_rules
from notify.adapters.templates import TemplateLibrary
from notify.adapters.delivery_log import InMemoryDeliveryLog
from notify.domain.rules import ConfigInvalid, Directory, RuleBook
from notify.service_layer.service import NotifyService

BASE = {"id": "r1", "event": "casestream.billing.dispute_opened", "template": "dispute_opened_customer",
        "channel": "email", "recipient": "customer"}


def test_default_rules_cover_the_required_triggers():
    events = {r.event for r in load_rules().rules}
    for required in [
        "casestream.notify.promise_due_soon", "casestream.escalation.promise_breached",
        "casestream.escalation.sla_breached", "casestream.handoff.requested",
        "casestream.escalation.approval_requested", "casestream.billing.dispute_opened",
        "casestream.billing.dispute_resolved", "casestream.billing.dunning_hold_placed",
        "casestream.complaint.regulatory_filed",
    ]:
        assert required in events


def test_default_directory_loads_with_loopback_webhooks_and_example_addresses():
    d = load_directory()
    for contact in [*d.people.values(), *d.accounts.values()]:
        assert contact.email is None or contact.email.endswith(".example")
        assert contact.webhook is None or contact.webhook.startswith("http://127.0.0.1")


def test_rule_matching_with_equality_membership_and_exists_conditions():
    book = RuleBook.from_mapping({"rules": [
        {**BASE, "id": "eq", "event": "casestream.billing.dispute_resolved", "when": {"outcome": "upheld"}},
        {**BASE, "id": "in", "event": "casestream.billing.dispute_resolved", "when": {"outcome": ["upheld", "rejected"]}},
        {**BASE, "id": "ex", "event": "casestream.escalation.customer_notice_due", "when": {"new_due": {"exists": True}}},
    ]})
    ids = lambda t, d: [r.id for r in book.for_event(t, d)]  # noqa: E731
    assert ids("casestream.billing.dispute_resolved", {"outcome": "upheld"}) == ["eq", "in"]
    assert ids("casestream.billing.dispute_resolved", {"outcome": "rejected"}) == ["in"]
    assert ids("casestream.billing.dispute_resolved", {}) == []
    assert ids("casestream.escalation.customer_notice_due", {"new_due": "2026-11-03T10:00:00Z"}) == ["ex"]
    assert ids("casestream.escalation.customer_notice_due", {"promise_ref": "C#1"}) == []
    assert ids("casestream.billing.dispute_opened", {"outcome": "upheld"}) == []


@pytest.mark.parametrize("change, field_named", [
    ({"channel": "sms"}, "rules.0.channel"),
    ({"recipient": "everyone"}, "rules.0.recipient"),
    ({"event": "casestream.nope"}, "rules.0.event"),
    ({"id": "Bad Id"}, "rules.0.id"),
    ({"urgent": "maybe"}, "rules.0.urgent"),
    ({"colour": "red"}, "rules.0.colour"),
    ({"event": "casestream.notify.promise_due_soon"}, "lead_time_minutes"),
])
def test_invalid_rules_name_the_field(change, field_named):
    with pytest.raises(ConfigInvalid) as err:
        RuleBook.from_mapping({"rules": [{**BASE, **change}]}, "rules.yaml")
    assert field_named in str(err.value)
    assert "rules.yaml" in str(err.value)


def test_duplicate_rule_ids_are_rejected():
    with pytest.raises(ConfigInvalid, match="used twice"):
        RuleBook.from_mapping({"rules": [BASE, BASE]})


@pytest.mark.parametrize("raw, field_named", [
    ({"people": {"p": {"name": "P", "time_zone": "Mars/Olympus"}}}, "people.p.time_zone"),
    ({"people": {"p": {"name": "P", "email": "not-an-address"}}}, "people.p.email"),
    ({"people": {"p": {"name": "P", "supervisor": "ghost"}}}, "people.p.supervisor"),
    ({"queues": {"q": {"duty_owner": "ghost"}}}, "queues.q.duty_owner"),
    ({"accounts": {"A": {"name": "A", "webhook": "ftp://x"}}}, "accounts.A.webhook"),
])
def test_invalid_directory_names_the_field(raw, field_named):
    with pytest.raises(ConfigInvalid) as err:
        Directory.from_mapping(raw)
    assert field_named in str(err.value)


def test_yaml_file_errors_name_the_file(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text("rules:\n  - id: x\n    event: casestream.billing.dispute_opened\n")
    with pytest.raises(ConfigInvalid) as err:
        load_rules(p)
    assert str(p) in str(err.value) and "rules.0.template" in str(err.value)


def test_service_refuses_a_rule_whose_template_does_not_exist():
    book = RuleBook.from_mapping({"rules": [{**BASE, "template": "no_such_template"}]})
    with pytest.raises(ConfigInvalid, match="rules.0.template"):
        NotifyService(book, load_directory(), TemplateLibrary(), {}, InMemoryDeliveryLog())
