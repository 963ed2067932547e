"""Accounts: sign-in, sign-out, registration, and the users CLI."""
