"""Shared core: typed settings, the GitHub App client and the Celery app object both edges use."""
