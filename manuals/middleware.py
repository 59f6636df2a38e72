import base64
import hashlib
import re

from django.conf import settings
from django.utils import translation

INLINE_SCRIPT = re.compile(r"<script[^>]*>(.+?)</script>", re.S)


class ChosenLanguageMiddleware:
    """Simplified Chinese unless the user chose English (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many agents'
    browsers are set to English; our users expect the team's language until they pick one.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every HTML page: scripts only from our own static files.

    Even if some markup slipped past the sanitiser, no inline script, event handler or
    foreign script would run, and nothing could be sent elsewhere. The one inline script we
    emit is the editor's import map (django-prose-editor): it is allowed by the hash of its
    exact content, computed once from the editor's own media.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._policy: str | None = None

    def policy(self) -> str:
        if self._policy is None:
            from manuals.forms import SectionForm  # the editor's media, once settings are ready

            hashes = " ".join(
                f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                for s in INLINE_SCRIPT.findall(str(SectionForm().media))
            )
            self._policy = "; ".join(
                [
                    "default-src 'self'",
                    f"script-src 'self' {hashes}".strip(),
                    # Inline style attributes (figure widths, the editor's own) are harmless.
                    "style-src 'self' 'unsafe-inline'",
                    "img-src 'self' data: blob:",
                    "font-src 'self' data:",
                    "connect-src 'self'",
                    "object-src 'none'",
                    "base-uri 'self'",
                    "form-action 'self'",
                    "frame-ancestors 'none'",
                ]
            )
        return self._policy

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", self.policy())
        return response
