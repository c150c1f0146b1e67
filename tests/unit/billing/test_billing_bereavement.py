from unit.billing.billing_unit_kit import ACCOUNT, Harness, day, types


def _notices(decisions):
    return [d for d in decisions if d.type.endswith("dunning_notice_issued")]


def test_bereavement_suspends_dunning_for_the_grace_period():
    h = Harness()  # grace is 60 days in the test policy
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.holder("Mary Smith", "bereavement", day(5)))
    assert h.service.account(ACCOUNT).grace_until == day(65)
    assert all(_notices(h.feed(s.tick(day(n)))) == [] for n in range(5, 65))
    resumed = _notices(h.feed(s.tick(day(65))))
    assert [d.data["level"] for d in resumed] == [3]  # the highest level due, once


def test_a_rename_after_bereavement_keeps_the_grace():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.holder("Mary Smith", "bereavement", day(5)),
           s.holder("Mary Jones", "rename", day(6)))
    assert _notices(h.feed(s.tick(day(40)))) == []


def test_rename_and_transfer_change_the_display_name_only():
    h = Harness()
    s = h.stream
    h.feed(s.charge("INV-1", 5000, day(0)), s.holder("New Co", "transfer", day(1)), s.holder("N. Co", "rename", day(2)))
    assert h.service.account(ACCOUNT).holder == "N. Co"
    assert h.service.account(ACCOUNT).grace_until is None
    assert [d.data["level"] for d in _notices(h.feed(s.tick(day(8))))] == [1]
