"""Settings for a real ``db_worker`` process started by a test: the test's database file and
the test's data directories (passed in the environment by tests/workers.py)."""

import os
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
MEDIA_ROOT = Path(os.environ["LANBITOU_TEST_MEDIA_ROOT"])
DATA_DIR = Path(os.environ["LANBITOU_TEST_DATA_DIR"])
EDITIONS_DIR = Path(os.environ["LANBITOU_TEST_EDITIONS_DIR"])
SEARCH_INDEX_DIR = Path(os.environ["LANBITOU_TEST_INDEX_DIR"])
