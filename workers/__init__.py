"""Celery tasks: pipelines, releases, deploys and rollbacks, reported to GitHub."""
