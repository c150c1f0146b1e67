from __future__ import annotations

import pytest

from intake.entrypoints.sequencers import worker_count


@pytest.mark.parametrize("configured, partitions, want", [
    (0, 3, 1),    # default: one
    (0, 12, 1),
    (0, 1, 1),
    (2, 3, 2),
    (8, 3, 3),    # never more than partitions: more would sit idle
    (1, 12, 1),
])
def test_worker_count(configured, partitions, want):
    assert worker_count(configured, partitions) == want
