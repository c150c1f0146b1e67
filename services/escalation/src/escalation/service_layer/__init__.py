"""Use cases over a Repository port: handle a fact, answer queries, simulate a history."""

from .repository import CaseRepository, InMemoryCaseRepository
from .services import EscalationService, Ownership, SlaView, simulate

__all__ = ["CaseRepository", "InMemoryCaseRepository", "EscalationService", "Ownership", "SlaView", "simulate"]
