"""Training code for the embedded classifier; never imported by the user-facing modules."""
