"""Deploys from GitHub: /deploy, /rollback, /status and the Roll back button, driven through
deploy/'s engine and reported to on-call. It imports nothing of workers/ci/."""
