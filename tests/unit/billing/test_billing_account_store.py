"""The table-backed account repository: a cache over the fact log, limited to owned accounts."""

from __future__ import annotations

from billing.adapters.account_store import FactLogAccounts
from billing.service_layer import BillingService
from casestream.streaming import FactLog

from unit.billing.billing_unit_kit import POLICY, Stream, day


def _log() -> FactLog:
    log = FactLog({})
    for account in ("ACC-MINE", "ACC-GONE"):
        s = Stream(case_id=f"CASE-{account}", account=account)
        log.append(account, s.charge("INV-1", 5_000, due=day(0)))
    return log


def test_accounts_of_partitions_given_up_are_not_listed_and_not_dunned():
    """After a rebalance the in-memory table still holds the other instance's accounts, frozen."""
    accounts = FactLogAccounts(_log(), owns=lambda account_id: account_id == "ACC-MINE")
    assert accounts.account_ids() == ["ACC-MINE"]
    notices = BillingService(accounts, POLICY).due_notices(day(40))
    assert {d.subject for d in notices} == {"ACC-MINE"}, "a notice from frozen state would race the owner's"

    everyone = FactLogAccounts(_log())
    assert everyone.account_ids() == ["ACC-GONE", "ACC-MINE"]
    assert {d.subject for d in BillingService(everyone, POLICY).due_notices(day(40))} == {"ACC-GONE", "ACC-MINE"}
