"""Where files live (pictures and thumbnails, print editions, import uploads): three named
storages of Django's Storage API, from the environment. Code only ever goes through
``django.core.files.storage.storages[name]`` (see manuals/storage.py), never a path.

LANBITOU_FILES_DIR        a directory for media/ and editions/ (default: the data directory);
                          several web nodes point it at one shared directory (NFS, …)
LANBITOU_S3_BUCKET        set: files go to this S3-compatible bucket instead, under media/
                          and editions/ keys (django-storages: the "s3" extra of pyproject)
LANBITOU_S3_ENDPOINT_URL  https://minio.example.com:9000 (empty: AWS)
LANBITOU_S3_REGION        us-east-1, cn-north-1, …
LANBITOU_S3_ACCESS_KEY_ID / LANBITOU_S3_SECRET_ACCESS_KEY
                          empty: boto3's own chain (AWS_* variables, ~/.aws, an instance role)
LANBITOU_S3_ADDRESSING_STYLE  path (most self-hosted servers) or virtual (default: auto)
LANBITOU_S3_PREFIX        a key prefix before media/ and editions/ (one bucket, several sites)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

LOCAL = "manuals.storage.SettingDirectoryStorage"
S3 = "storages.backends.s3.S3Storage"
# The names keep today's layout: pictures at media/manuals/<id>/images/…, uploads at
# media/imports/…, PDFs at editions/<manual id>/…; so an existing data directory (or a
# copy of it in a bucket under these prefixes) keeps working.
FOLDERS = {"default": "media", "imports": "media", "editions": "editions"}
SETTING_OF = {"media": "MEDIA_ROOT", "editions": "EDITIONS_DIR"}


def files_dir(env: Mapping[str, str], *, data_dir: Path) -> Path:
    raw = env.get("LANBITOU_FILES_DIR", "")
    if not raw:
        return data_dir
    path = Path(raw)
    if not path.is_absolute():
        raise ImproperlyConfigured(f"LANBITOU_FILES_DIR must be an absolute path, got {raw!r}")
    return path.resolve()


def file_storages(env: Mapping[str, str]) -> dict[str, dict]:
    """The "default", "imports" and "editions" entries of settings.STORAGES."""
    bucket = env.get("LANBITOU_S3_BUCKET", "")
    if not bucket:
        # Local directories named by settings (MEDIA_ROOT, EDITIONS_DIR), read when used.
        return {
            name: {"BACKEND": LOCAL, "OPTIONS": {"setting": SETTING_OF[folder]}}
            for name, folder in FOLDERS.items()
        }
    try:
        import storages.backends.s3  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "LANBITOU_S3_BUCKET is set but django-storages is not installed: "
            "pip install 'django-storages[s3]>=1.14,<2' (the s3 extra of pyproject.toml)"
        ) from None
    return s3_storages(env)


def s3_storages(env: Mapping[str, str]) -> dict[str, dict]:
    """The three storages in the bucket LANBITOU_S3_BUCKET (django-storages' S3Storage)."""
    bucket = env["LANBITOU_S3_BUCKET"]
    style = env.get("LANBITOU_S3_ADDRESSING_STYLE", "") or None
    if style not in {None, "path", "virtual", "auto"}:
        raise ImproperlyConfigured(
            f"LANBITOU_S3_ADDRESSING_STYLE must be path, virtual or auto, got {style!r}"
        )
    endpoint = env.get("LANBITOU_S3_ENDPOINT_URL", "")
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"LANBITOU_S3_ENDPOINT_URL must start with https:// or http://, got {endpoint!r}"
        )
    prefix = env.get("LANBITOU_S3_PREFIX", "").strip("/")
    given = {
        "bucket_name": bucket,
        "endpoint_url": endpoint or None,
        "region_name": env.get("LANBITOU_S3_REGION", "") or None,
        "access_key": env.get("LANBITOU_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env.get("LANBITOU_S3_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": style,
        "signature_version": "s3v4",
        # Private objects, never overwritten (a new picture is a new name, as on disk);
        # nothing links to the bucket: every file is streamed through Django's checks.
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }
    common = {key: value for key, value in given.items() if value is not None}  # unset: defaults
    return {
        name: {"BACKEND": S3, "OPTIONS": {**common, "location": f"{prefix}/{folder}".lstrip("/")}}
        for name, folder in FOLDERS.items()
    }
