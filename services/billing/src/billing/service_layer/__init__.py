"""Billing use cases over a Repository port."""

from billing.service_layer.repository import AccountRepository, InMemoryAccountRepository
from billing.service_layer.services import (
    AccountView, BadRequest, BillingService, DisputeView, LedgerPage, NotFound, rebuild_account,
)
from billing.service_layer.simulate import simulate, simulate_log

__all__ = [
    "AccountRepository", "AccountView", "BadRequest", "BillingService", "DisputeView", "InMemoryAccountRepository",
    "LedgerPage", "NotFound", "rebuild_account", "simulate", "simulate_log",
]
