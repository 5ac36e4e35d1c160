"""The grammar tutor: a Spanish verb checker served over HTTP (imports nothing of deploybot)."""
