"""The admin console: people, organisations and the audit log (issue 12)."""
