"""The deploybot command line: demo, serve, worker, doctor, status and friends."""
