"""Incoming webhooks: the articles repository announces a push."""
