"""The small adapters beside the faust worker: fold progress and recently-acked decisions."""

import threading
import time
from datetime import datetime, timezone

from casestream.facts import Decision
from escalation.adapters.progress import FoldProgress
from escalation.adapters.recent import RecentlySubmitted


def test_wait_returns_once_the_sequence_is_folded():
    progress = FoldProgress()
    progress.folded("C-1", 3)
    assert progress.wait("C-1", 3, 0) and not progress.wait("C-1", 4, 0.01)
    threading.Timer(0.05, progress.folded, args=("C-1", 5)).start()
    start = time.monotonic()
    assert progress.wait("C-1", 5, 5.0)
    assert time.monotonic() - start < 2.0
    progress.folded("C-1", 2)  # never goes back
    assert progress.sequence("C-1") == 5 and progress.sequence("C-2") == 0


def test_an_acked_decision_is_not_resent_within_the_window():
    d = Decision("casestream.escalation.sla_breached", "sla-breach:C-1:resolution:1", "C-1", "ACC-1",
                 datetime(2026, 11, 9, tzinfo=timezone.utc))
    recent = RecentlySubmitted(ttl=0.05)
    assert recent.fresh([d]) == [d]
    recent.acked([d])
    assert recent.fresh([d]) == []
    time.sleep(0.06)
    assert recent.fresh([d]) == [d]  # sent again after the window, in case intake rejected it
