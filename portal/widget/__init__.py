"""The embeddable "Knowledge Base" help widget: loader, framed panel, JSON API, hand-off.
See portal/widget/views.py for the routes and portal/widget/tokens.py for the tokens."""
