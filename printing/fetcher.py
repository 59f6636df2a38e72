"""The only way WeasyPrint reaches anything: local files inside the roots we name.

Section bodies are user HTML and must be treated as hostile: no ``http(s):`` (no SSRF to
internal addresses), no ``data:``, no ``file:`` outside our theme folder and this
manual's print images, no redirects (there is nothing to redirect). Kept free of Django
imports so chapter workers can use it without setting Django up.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse


class RefusedURL(ValueError):
    pass


class BookletURLFetcher(URLFetcher):
    def __init__(self, allowed_roots: list[str | Path]):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.allowed_roots = [Path(root).resolve() for root in allowed_roots]
        self.refused: list[str] = []

    def local_path(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in {"", "localhost"}:
            raise RefusedURL(f"refused: {url[:200]}")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.allowed_roots):
            raise RefusedURL(f"refused: {url[:200]}")
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return path

    def fetch(self, url, headers=None):
        try:
            path = self.local_path(url)
        except RefusedURL:
            self.refused.append(url)
            raise
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": mime}, status=200
        )
