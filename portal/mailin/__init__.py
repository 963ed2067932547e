"""The email channel: incoming mail to tickets, and the agents' review list."""
