"""The HTTP edge: verifies GitHub webhooks, routes events and enqueues jobs."""
