"""Use cases: handle a fact, deliver, list deliveries, preview."""
