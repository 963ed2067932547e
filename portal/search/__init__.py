"""Search: the index behind a small interface, the query rules and the results page."""
