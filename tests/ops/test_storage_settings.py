"""Where files go, from the environment (config/storage.py): directories by default, a
shared directory, or an S3-compatible bucket."""

import importlib.util
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.storage import file_storages, files_dir, s3_storages


def test_by_default_files_stay_in_the_data_directory_with_their_old_names(tmp_path):
    assert files_dir({}, data_dir=tmp_path) == tmp_path
    storages = file_storages({})
    assert set(storages) == {"default", "imports", "editions"}
    assert {alias: entry["OPTIONS"]["setting"] for alias, entry in storages.items()} == {
        "default": "MEDIA_ROOT", "imports": "MEDIA_ROOT", "editions": "EDITIONS_DIR",
    }  # fmt: skip


def test_a_shared_files_directory_must_be_an_absolute_path(tmp_path):
    assert files_dir({"LANBITOU_FILES_DIR": str(tmp_path)}, data_dir=Path("/x")) == tmp_path
    with pytest.raises(ImproperlyConfigured, match="absolute"):
        files_dir({"LANBITOU_FILES_DIR": "shared/files"}, data_dir=tmp_path)


def test_a_bucket_holds_the_three_storages_under_their_folders():
    env = {
        "LANBITOU_S3_BUCKET": "lanbitou",
        "LANBITOU_S3_ENDPOINT_URL": "https://minio.example.com:9000",
        "LANBITOU_S3_ADDRESSING_STYLE": "path",
        "LANBITOU_S3_PREFIX": "/site-a/",
        "LANBITOU_S3_ACCESS_KEY_ID": "AK",
        "LANBITOU_S3_SECRET_ACCESS_KEY": "SK",
    }
    storages = s3_storages(env)
    assert {alias: entry["OPTIONS"]["location"] for alias, entry in storages.items()} == {
        "default": "site-a/media", "imports": "site-a/media", "editions": "site-a/editions",
    }  # fmt: skip
    options = storages["editions"]["OPTIONS"]
    assert storages["editions"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == "lanbitou" and options["addressing_style"] == "path"
    assert options["endpoint_url"] == "https://minio.example.com:9000"
    assert (options["access_key"], options["secret_key"]) == ("AK", "SK")
    assert options["file_overwrite"] is False and options["querystring_auth"] is True
    # Unset keys are left to boto3's own chain (AWS_* variables, an instance role).
    assert "access_key" not in s3_storages({"LANBITOU_S3_BUCKET": "b"})["default"]["OPTIONS"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("LANBITOU_S3_ADDRESSING_STYLE", "sideways"), ("LANBITOU_S3_ENDPOINT_URL", "minio:9000")],
)
def test_bad_bucket_settings_fail_loudly(name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        s3_storages({"LANBITOU_S3_BUCKET": "b", name: value})


@pytest.mark.skipif(
    importlib.util.find_spec("storages") is not None, reason="django-storages is installed here"
)
def test_a_bucket_without_django_storages_says_what_to_install():
    with pytest.raises(ImproperlyConfigured, match=r"django-storages\[s3\]"):
        file_storages({"LANBITOU_S3_BUCKET": "lanbitou"})
