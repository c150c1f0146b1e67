"""Casestream notify: turns case facts and decisions into e-mails and signed webhooks."""
