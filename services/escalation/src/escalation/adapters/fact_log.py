"""Rebuilding escalation state from the `case_to_facts` faust table (a FactLog)."""

from __future__ import annotations

from typing import Any, Callable

from casestream.streaming import FactLog

from ..service_layer import EscalationService
from .progress import FoldProgress


def restore_case(service: EscalationService, log: FactLog, progress: FoldProgress, case_id: str) -> int:
    """Fold the recovered facts of one case that the service has not folded yet."""
    folded = service.rehydrate(log.facts(case_id))
    progress.folded(case_id, service.last_sequence(case_id))
    return folded


def restore_all(service: EscalationService, log: FactLog, progress: FoldProgress, logger: Any,
                owns: Callable[[str], bool] = lambda subject: True) -> int:
    """Fold every recovered case this instance owns (after table recovery, before it answers).

    `owns` is asked about a case's subject: intake partitions case.events.v1 by it."""
    keys = [key for key in log.keys() if owns(log.subject(key))]
    folded = sum(restore_case(service, log, progress, key) for key in keys)
    logger.info("state_restored", cases=len(keys), facts_folded=folded)
    return folded
