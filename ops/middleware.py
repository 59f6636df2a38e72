from django.http import HttpRequest

from ops.views import healthz


class HealthCheckMiddleware:
    """Answers /healthz before host validation and the HTTPS redirect: load balancers
    probe a node by its IP over plain HTTP, which ALLOWED_HOSTS would refuse."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
