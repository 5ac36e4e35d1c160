"""One fake GitHub for the suite and the demo, validating requests against GitHub's schema."""
