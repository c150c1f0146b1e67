from datetime import timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from escalation.domain.calendar import BusinessCalendar

from unit.escalation.escalation_unit_kit import POLICY, ny

BILLING = BusinessCalendar(POLICY.queues["billing"])
FRONTLINE = BusinessCalendar(POLICY.queues["frontline"])
H = timedelta(hours=1)


def test_is_open_respects_hours_weekends_and_holidays():
    assert BILLING.is_open(ny(2026, 11, 6, 9, 0))
    assert BILLING.is_open(ny(2026, 11, 6, 16, 59))
    assert not BILLING.is_open(ny(2026, 11, 6, 17, 0))
    assert not BILLING.is_open(ny(2026, 11, 7, 12, 0))  # Saturday
    assert not BILLING.is_open(ny(2026, 11, 11, 12, 0))  # Veterans Day
    assert not BILLING.is_open(ny(2026, 11, 26, 12, 0))  # Thanksgiving
    assert FRONTLINE.is_open(ny(2026, 11, 7, 3, 0))


def test_is_open_uses_the_queue_time_zone():
    # 14:30 UTC on a Monday is 09:30 in New York (EST): open.
    from datetime import datetime
    assert BILLING.is_open(datetime(2026, 11, 9, 14, 30, tzinfo=timezone.utc))
    assert not BILLING.is_open(datetime(2026, 11, 9, 13, 30, tzinfo=timezone.utc))


def test_next_open_skips_the_weekend_and_the_holiday():
    assert BILLING.next_open(ny(2026, 11, 6, 17, 0)) == ny(2026, 11, 9, 9, 0)
    assert BILLING.next_open(ny(2026, 11, 10, 18, 0)) == ny(2026, 11, 12, 9, 0)  # Wed 11th is a holiday
    assert BILLING.next_open(ny(2026, 11, 9, 10, 0)) == ny(2026, 11, 9, 10, 0)


def test_next_close():
    assert BILLING.next_close(ny(2026, 11, 6, 16, 45)) == ny(2026, 11, 6, 17, 0)
    assert BILLING.next_close(ny(2026, 11, 7, 10, 0)) is None
    assert FRONTLINE.next_close(ny(2026, 11, 7, 10, 0)) is None


def test_elapsed_across_a_weekend():
    assert BILLING.elapsed(ny(2026, 11, 6, 15, 0), ny(2026, 11, 9, 11, 0)) == 4 * H


def test_elapsed_across_a_holiday_week():
    # Tue 10th 09:00 .. Fri 13th 17:00 is four weekdays minus Veterans Day: 24h.
    assert BILLING.elapsed(ny(2026, 11, 10, 9, 0), ny(2026, 11, 13, 17, 0)) == 24 * H
    # Thanksgiving Thursday closes; Friday open.
    assert BILLING.elapsed(ny(2026, 11, 25, 16, 0), ny(2026, 11, 27, 10, 0)) == 2 * H


def test_elapsed_across_the_dst_change():
    # DST ends Sun 1 Nov 2026. Fri 30 Oct 16:00 EDT to Mon 2 Nov 10:00 EST: 1h + 1h of business.
    assert BILLING.elapsed(ny(2026, 10, 30, 16, 0), ny(2026, 11, 2, 10, 0)) == 2 * H
    # A 24/7 queue counts the real 25-hour day.
    assert FRONTLINE.elapsed(ny(2026, 11, 1, 0, 0), ny(2026, 11, 2, 0, 0)) == 25 * H
    # Spring forward (Sun 8 Mar 2026): a 23-hour day.
    assert FRONTLINE.elapsed(ny(2026, 3, 8, 0, 0), ny(2026, 3, 9, 0, 0)) == 23 * H


def test_add_business_time():
    assert BILLING.add(ny(2026, 11, 6, 15, 0), 4 * H) == ny(2026, 11, 9, 11, 0)
    assert BILLING.add(ny(2026, 11, 7, 12, 0), 1 * H) == ny(2026, 11, 9, 10, 0)  # starts closed
    assert BILLING.add(ny(2026, 11, 10, 16, 0), 2 * H) == ny(2026, 11, 12, 10, 0)
    assert BILLING.add(ny(2026, 10, 30, 16, 0), 2 * H) == ny(2026, 11, 2, 10, 0)
    assert BILLING.add(ny(2026, 11, 6, 17, 0), 8 * H) == ny(2026, 11, 9, 17, 0)  # deadline on a close


def test_naive_datetimes_are_rejected():
    from datetime import datetime
    with pytest.raises(ValueError, match="naive"):
        BILLING.is_open(datetime(2026, 11, 6, 12, 0))


# Quarter-hour instants over 16 days around the DST change, built in UTC (`+` on a
# zoned datetime is wall-clock arithmetic in Python and would ignore DST).
utc_instants = st.integers(min_value=0, max_value=16 * 24 * 4).map(
    lambda q: (ny(2026, 10, 26, 0, 0).astimezone(timezone.utc) + q * timedelta(minutes=15)))


@settings(max_examples=60, deadline=None)
@given(utc_instants, utc_instants)
def test_property_sla_time_never_counts_closed_hours(a, b):
    """Business time equals the count of open 15-minute slots (hours are on the quarter hour)."""
    start, end = min(a, b), max(a, b)
    q = timedelta(minutes=15)
    slots, t = 0, start
    while t < end:
        slots += BILLING.is_open(t)
        t += q
    assert BILLING.elapsed(start, end) == slots * q
    assert BILLING.elapsed(start, end) <= end - start


@settings(max_examples=60, deadline=None)
@given(utc_instants, st.integers(min_value=0, max_value=80 * 4))
def test_property_add_inverts_elapsed(start, quarters):
    d = quarters * timedelta(minutes=15)
    deadline = BILLING.add(start, d)
    assert BILLING.elapsed(start, deadline) == d
    if d:
        assert BILLING.is_open(deadline - timedelta(microseconds=1))
