"""/healthz and the error pages (403, 404, 500, CSRF failure) in the site's layout."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

from ops.health import run_checks

log = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when database, data directory, search index and workers are fine, else 503;
    the body names what is wrong (no secrets, no paths beyond the data directory)."""
    checks = run_checks()
    failing = {name: reason for name, reason in checks.items() if reason}
    body = {
        "status": "fail" if failing else "ok",
        "checks": {name: reason or "ok" for name, reason in checks.items()},
    }
    if failing:
        log.warning("health check failing: %s", failing)
    return JsonResponse(body, status=503 if failing else 200)


def _error_page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    try:
        body = loader.render_to_string(template, {"status": status}, request=request)
    except Exception:
        # The database (the user, the session) may be what failed: render without them.
        log.exception("error page %s rendered without its request", status)
        body = loader.render_to_string(template, {"status": status, "bare": True})
    return HttpResponse(body, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error_page(request, "errors/404.html", 404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error_page(request, "errors/403.html", 403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error_page(request, "errors/400.html", 400)


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, "errors/500.html", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # The reason ("Origin checking failed…") helps the operator, not the user: log it.
    log.warning("CSRF failure on %s: %s", request.path, reason)
    return _error_page(request, "errors/403_csrf.html", 403)
