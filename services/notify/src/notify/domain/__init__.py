"""Pure notify domain: rules, recipients, case projection, PII guard and planning."""
