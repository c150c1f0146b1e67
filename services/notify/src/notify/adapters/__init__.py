"""Adapters: YAML loaders, Jinja2 templates, SMTP and webhook senders, dedupe stores."""
