"""The Contact page and the "Support is open now" status, from the business calendar."""
