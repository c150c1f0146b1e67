"""Pure escalation rules: policy, business calendar, case state (a fold) and decisions."""
