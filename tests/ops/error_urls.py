"""The site's URLs plus two views that fail, for the error page tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def broken(request):
    raise RuntimeError("boom")


def forbidden(request):
    raise PermissionDenied


urlpatterns = [path("broken/", broken), path("forbidden/", forbidden), *urlpatterns]
