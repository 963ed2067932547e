"""Training sessions: the list, admin editing, enrollment with a waitlist, invitations."""
