"""The worker's Celery tasks, one module per concern; each is a thin wrapper that turns its
contract message into a request and calls the code that does the work (workers/app.py registers
them)."""
