"""'Was this article helpful?': reader votes, reasons, comments and the editors' health view."""
