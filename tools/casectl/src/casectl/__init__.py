"""casectl: the Casestream operator tool."""

__version__ = "0.1.0"
