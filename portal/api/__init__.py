"""JSON API for scripts and the search box: search, suggestions, result clicks."""
