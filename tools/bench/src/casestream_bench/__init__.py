"""Casestream benchmark (`make bench`): every figure is also a ratio to the raw produce rate of the same run."""

__version__ = "0.1.0"
