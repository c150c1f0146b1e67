"""Counterfactual replay: a service's decisions for a history under a candidate policy,
compared with the decisions actually in the log. Nothing is written anywhere.

A service plugs in with one `Simulator` line in SIMULATORS: the module path of its
pure `simulate(facts, policy) -> list[Decision]` and of its `load_policy(path)`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from casestream.catalogue import DECISIONS
from casestream.facts import Decision, Fact


@dataclass(frozen=True)
class Simulator:
    service: str
    simulate: str  # "module:function"
    load_policy: str  # "module:function"
    scope: str  # "account": feed every fact of the case's account; "case": the case's facts only

    @property
    def decision_types(self) -> frozenset[str]:
        return frozenset(f"casestream.{self.service}.{n}" for n in DECISIONS[self.service])

    def is_own_decision(self, f: Fact) -> bool:
        return f.type in self.decision_types

    def _resolve(self, path: str) -> Callable[..., Any]:
        module, _, name = path.partition(":")
        return getattr(importlib.import_module(module), name)

    def available(self) -> bool:
        try:
            self._resolve(self.simulate)
            self._resolve(self.load_policy)
            return True
        except (ImportError, AttributeError):
            return False

    def run(self, facts: Iterable[Fact], policy_path: str) -> list[Decision]:
        policy = self._resolve(self.load_policy)(policy_path)
        history = [f for f in facts if not self.is_own_decision(f)]
        return list(self._resolve(self.simulate)(history, policy))


SIMULATORS: dict[str, Simulator] = {
    s.service: s for s in (
        Simulator("billing", "billing.service_layer.simulate:simulate", "billing.policy:load_policy", "account"),
        Simulator("escalation", "escalation.service_layer:simulate", "escalation.domain.policy:load_policy", "case"),
    )
}


def _plain(data: Any) -> Any:
    """Data as plain JSON values, so a logged decision and a simulated one compare equal."""
    return json.loads(json.dumps(dict(data), sort_keys=True, default=str))


@dataclass
class Difference:
    kind: str  # "removed" (in the log, not under the policy), "added", "changed", "renamed" (same type+data, new id)
    type: str
    id: str
    actual: dict[str, Any] | None = None
    simulated: dict[str, Any] | None = None
    other_id: str | None = None
    changed_fields: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    actual: int
    simulated: int
    unchanged: int
    differences: list[Difference]

    def to_dict(self) -> dict[str, Any]:
        return {"actual": self.actual, "simulated": self.simulated, "unchanged": self.unchanged,
                "differences": [vars(d) for d in self.differences]}


def compare(actual: Sequence[Fact], simulated: Sequence[Decision]) -> Comparison:
    """Match by (type, id); data differences are `changed`. Leftovers are matched by (type, data)
    (the same decision under another id); the rest were `removed` or `added`."""
    act = {(f.type, f.id): _plain(f.data) for f in actual}
    sim = {(d.type, d.id): _plain(d.data) for d in simulated}
    diffs: list[Difference] = []
    unchanged = 0
    for k in [k for k in act if k in sim]:
        a, s = act.pop(k), sim.pop(k)
        if a == s:
            unchanged += 1
        else:
            fields = sorted(n for n in set(a) | set(s) if a.get(n) != s.get(n))
            diffs.append(Difference("changed", k[0], k[1], a, s, changed_fields=fields))
    by_content: dict[str, list[tuple[str, str]]] = {}
    for k, s in sim.items():
        by_content.setdefault(json.dumps([k[0], s], sort_keys=True), []).append(k)
    for k, a in list(act.items()):
        twins = by_content.get(json.dumps([k[0], a], sort_keys=True))
        if twins:
            other = twins.pop(0)
            sim.pop(other)
            act.pop(k)
            diffs.append(Difference("renamed", k[0], k[1], a, a, other_id=other[1]))
    diffs += [Difference("removed", k[0], k[1], a, None) for k, a in act.items()]
    diffs += [Difference("added", k[0], k[1], None, s) for k, s in sim.items()]
    return Comparison(len(actual), len(simulated), unchanged, diffs)
