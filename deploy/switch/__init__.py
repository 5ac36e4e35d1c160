"""Traffic switches: what routes an environment's front to one of its colours."""
