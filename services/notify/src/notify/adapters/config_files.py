"""Load rules and the recipient directory from YAML (the packaged defaults or a path)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from notify.domain.rules import ConfigInvalid, Directory, RuleBook


def _read(path: str | Path | None, default_name: str) -> tuple[object, str]:
    if path is None:
        text = resources.files("notify").joinpath("rules", default_name).read_text(encoding="utf-8")
        source = f"notify/rules/{default_name}"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    try:
        return yaml.safe_load(text), source
    except yaml.YAMLError as exc:
        raise ConfigInvalid(f"{source} is not valid YAML: {exc}") from None


def load_rules(path: str | Path | None = None) -> RuleBook:
    """The rule book from `path`, or the packaged `rules/default.yaml`."""
    raw, source = _read(path, "default.yaml")
    return RuleBook.from_mapping(raw, source)


def load_directory(path: str | Path | None = None) -> Directory:
    """The recipient directory from `path`, or the packaged `rules/directory.yaml`."""
    raw, source = _read(path, "directory.yaml")
    return Directory.from_mapping(raw, source)
