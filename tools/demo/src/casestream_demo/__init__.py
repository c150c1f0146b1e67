"""`make demo`: drives the telecom story and the widow's story through a running stack.

scenario.py publishes CloudEvents the way the internal systems would (phone system,
CRM, billing system, field service) through intake's gRPC API, on the stream clock.
report.py reads back only what the services answer (gRPC) and what the log holds,
prints the timeline and the before/after table, exports and verifies an audit bundle,
and checks the invariants; __main__ exits non-zero if any fails.
"""

__version__ = "0.1.0"
