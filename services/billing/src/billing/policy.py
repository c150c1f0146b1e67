"""Loading the billing policy from YAML: the packaged default or a file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from billing.domain.policy import BillingPolicy, PolicyError, parse_policy

__all__ = ["BillingPolicy", "PolicyError", "load_policy", "parse_policy_yaml"]


def parse_policy_yaml(text: str) -> BillingPolicy:
    """Parse and validate a YAML policy document."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy: not valid YAML: {exc}") from None
    return parse_policy(document)


def load_policy(path: str | Path | None = None) -> BillingPolicy:
    """Load a policy file, or the packaged `policies/default.yaml` when no path is given."""
    if path is None:
        text = resources.files("billing").joinpath("policies/default.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_policy_yaml(text)
