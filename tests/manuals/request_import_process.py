"""A web process for tests/manuals/test_import_request_crash.py: uploads a document and
confirms its import through the real views (Django's test client in this process, no
worker), so that a small upload is analysed and imported inside the request, and the test
can kill this process while it imports.

    python -m tests.manuals.request_import_process USERNAME PATH

Prints ``{"job": ID}`` once the upload is analysed, then confirms the import.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(username: str, path: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from manuals.models import DocumentImport

    user = get_user_model().objects.get(username=username)
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    document = SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
    response = client.post(reverse("manuals:import_upload"), {"document": document})
    assert response.status_code == 302, response.status_code
    job = DocumentImport.objects.of(user).first()
    print(json.dumps({"job": job.pk, "status": job.status}), flush=True)
    confirm = reverse("manuals:import_confirm", args=[job.pk])
    client.post(confirm, {"destination": "new", "title": "截图汇总"})


if __name__ == "__main__":
    main(*sys.argv[1:])
