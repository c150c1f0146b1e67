from __future__ import annotations

import gc
import threading

from casestream.runtime import freeze_gc


def test_freeze_gc_freezes_at_once_and_returns_on_stop():
    stop = threading.Event()
    gc.unfreeze()
    keep = [[i] for i in range(1000)]  # tracked objects alive now
    t = threading.Thread(target=freeze_gc, args=(stop, 0.05), daemon=True)
    t.start()
    try:
        for _ in range(100):
            if gc.get_freeze_count() >= len(keep):
                break
            stop.wait(0.01)
        assert gc.get_freeze_count() >= len(keep)
    finally:
        stop.set()
        t.join(timeout=2)
        gc.unfreeze()
    assert not t.is_alive()
