"""Every event family's router, merged in one place."""

from __future__ import annotations

from gidgethub import routing

from bot import checks, comments, lifecycle, pull_request, push

router = routing.Router(
    checks.router, comments.router, lifecycle.router, pull_request.router, push.router
)
