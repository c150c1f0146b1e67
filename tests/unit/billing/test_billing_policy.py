import pytest

from billing.domain.policy import PolicyError
from billing.policy import load_policy, parse_policy_yaml
from billing.service_layer import simulate

from unit.billing.billing_unit_kit import POLICY, Stream, day

GOOD = """
version: v7
dunning: {schedule: [{days_past_due: 7, level: 1}, {days_past_due: 30, level: 2}]}
bereavement: {grace_days: 30}
unmatched_evidence: {task_owner: desk}
"""


def test_packaged_default_policy_loads():
    policy = load_policy()
    assert policy.version
    assert [s.days_past_due for s in policy.dunning.schedule] == [7, 14, 30]
    assert policy.bereavement.grace_days > 0
    assert policy.unmatched_evidence.task_owner


def test_policy_from_a_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    assert load_policy(path).version == "v7"


@pytest.mark.parametrize(("text", "field"), [
    (GOOD.replace("grace_days: 30", "grace_days: -2"), "bereavement.grace_days"),
    (GOOD.replace("task_owner: desk", "task_owner: ''"), "unmatched_evidence.task_owner"),
    (GOOD.replace("version: v7\n", ""), "version"),
    (GOOD.replace("days_past_due: 30", "days_past_due: 5"), "dunning.schedule"),
    (GOOD.replace("level: 2", "level: x"), "dunning.schedule.1.level"),
    (GOOD + "surprise: 1\n", "surprise"),
])
def test_policy_errors_name_the_field(text, field):
    with pytest.raises(PolicyError) as err:
        parse_policy_yaml(text)
    assert field in str(err.value)


def test_not_yaml_and_not_a_mapping_are_rejected_clearly():
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy_yaml("version: [")
    with pytest.raises(PolicyError, match="mapping"):
        parse_policy_yaml("- 1\n- 2\n")


def test_every_decision_records_the_policy_version():
    s = Stream()
    decisions = simulate([
        s.charge("INV-1", 100, day(0)), s.tick(day(8)), s.dispute("INV-1", day(9)),
        s.evidence("NOPE", 5, day(9)), s.ruling("INV-1", "upheld", day(10)),
    ], POLICY)
    assert decisions
    assert {d.data["policy_version"] for d in decisions} == {POLICY.version}
