"""Lanbitou settings: one module, configured by environment variables.

All state lives under LANBITOU_DATA_DIR (default ./var): the SQLite database, uploaded
media, the search index and rendered PDFs. DATABASE_URL switches to PostgreSQL; the files
may live in a shared directory or a bucket instead (config/storage.py).
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.storage import file_storages, files_dir

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be postgresql://…, got {parsed.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
    }


DATA_DIR = Path(env_str("LANBITOU_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def secret_key_from_data_dir(data_dir: Path) -> str:
    """The key written into the data directory on first start (readable by its owner only),
    so sessions and set-password links survive restarts without anyone choosing a key."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    import secrets

    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the stack wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


# Production is the default: DEBUG shows settings and every URL pattern to strangers.
DEBUG = env_bool("LANBITOU_DEBUG", False)
SECRET_KEY = env_str("LANBITOU_SECRET_KEY", "") or secret_key_from_data_dir(DATA_DIR)
ALLOWED_HOSTS = env_list("LANBITOU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mptt",
    "django_tasks",
    "django_prose_editor",
    "axes",
    "manuals",
    # Feature folders of manuals/ (apps without models: their commands and template tags).
    "manuals.documents",
    "manuals.team_templates",
    "manuals.circulation",
    "manuals.images",
    "manuals.team",
    "manuals.accounts",
    "manuals.demo",
    "search",
    "printing",
    "ops",
    # After printing: its db_worker (the library's plus crash recovery) wins.
    "django_tasks_db",
]

MIDDLEWARE = [
    "ops.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "manuals.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "manuals.middleware.ContentSecurityPolicyMiddleware",
    # Last: it turns a locked-out login into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "lanbitou.sqlite3",
            "OPTIONS": {
                # Writers queue on the lock (IMMEDIATE) instead of failing half-way with
                # "database is locked"; WAL lets readers run beside the one writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;"
                ),
            },
            # Tests use a file too: an in-memory database shared between threads locks
            # whole tables and fails at once instead of waiting like the real one.
            "TEST": {"NAME": str(DATA_DIR / "test-lanbitou.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def search_engine_for(raw: str, database_engine: str) -> str:
    """``LANBITOU_SEARCH_ENGINE``: whoosh (an index on local disk, one machine) or postgres
    (the index in the database, every node sees it); empty: postgres on PostgreSQL."""
    on_postgres = database_engine == "django.db.backends.postgresql"
    engine = raw.strip().lower() or ("postgres" if on_postgres else "whoosh")
    if engine not in {"whoosh", "postgres"}:
        raise ImproperlyConfigured(
            f"LANBITOU_SEARCH_ENGINE must be whoosh or postgres, got {raw!r}"
        )
    if engine == "postgres" and not on_postgres:
        raise ImproperlyConfigured(
            "LANBITOU_SEARCH_ENGINE=postgres needs a PostgreSQL database (DATABASE_URL)"
        )
    return engine


SEARCH_ENGINE = search_engine_for(
    env_str("LANBITOU_SEARCH_ENGINE", ""), DATABASES["default"]["ENGINE"]
)
# models.W038: SQLite cannot enforce the deferrable unique (tree_id, lft/rght) constraints
# on sections; they are meant for PostgreSQL, and check_trees covers SQLite.
SILENCED_SYSTEM_CHECKS = (
    ["models.W038"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []
)

TASKS = {
    "default": {
        "BACKEND": env_str("LANBITOU_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "printing", "search", "imports"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Logins are throttled (django-axes): after LANBITOU_LOGIN_FAILURES wrong passwords for one
# account, or from one address, that account or address waits LANBITOU_LOGIN_COOLOFF_MIN
# minutes; a right password meanwhile does not get in. Both counts, separately.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LANBITOU_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LANBITOU_LOGIN_COOLOFF_MIN", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Not axes' own reset: it would also wipe failures against other accounts from the same
# address. A good login clears only that account's count (manuals.apps).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "manuals.views.login_locked_out"
AXES_VERBOSE = False
# Optional directory login (config/directory.py documents its variables); its backend goes
# just before ModelBackend, after axes.
LANBITOU_LDAP_TEAMS: dict[str, str] = {}
LANBITOU_LDAP_LEAD_GROUP = ""
if os.environ.get("LANBITOU_LDAP_URI"):
    from config.directory import directory_settings

    globals().update(directory_settings(os.environ, backends=AUTHENTICATION_BACKENDS))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "manuals:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("LANBITOU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start while it is missing
STORAGES = {
    # Pictures and thumbnails ("default"), print editions, import uploads: config/storage.py.
    **file_storages(os.environ),
    # whitenoise serves STATIC_ROOT (filled by collectstatic when the stack starts) with
    # gzip/brotli copies; without a manifest so a missing collectstatic never breaks pages.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
# The local directories of the file storages (unless they are in a bucket); several nodes
# share them through LANBITOU_FILES_DIR. Only manuals/storage.py reads these two.
FILES_DIR = files_dir(os.environ, data_dir=DATA_DIR)
MEDIA_ROOT = FILES_DIR / "media"
EDITIONS_DIR = FILES_DIR / "editions"
SEARCH_INDEX_DIR = DATA_DIR / "index"
# Processes a Whoosh rebuild writes segments with (each holds one segment in memory, ~0.9 GB;
# the rebuilding process holds up to workers + 1 batches of 50,000 rows).
SEARCH_REBUILD_WORKERS = env_int("LANBITOU_SEARCH_REBUILD_WORKERS", min(os.cpu_count() or 1, 4))

# Uploads: .docx files and photos may be large, but never unbounded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
LANBITOU_MAX_UPLOAD_BYTES = env_int("LANBITOU_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
# Pictures (manuals.images.pipeline): bigger files or canvases are refused with a message.
LANBITOU_MAX_IMAGE_BYTES = env_int("LANBITOU_MAX_IMAGE_BYTES", 25 * 1024 * 1024)
LANBITOU_MAX_IMAGE_PIXELS = env_int("LANBITOU_MAX_IMAGE_PIXELS", 60_000_000)

# Printing (printing.jobs): each edition renders in its own process, stopped past these
# limits; chapters render in this many worker processes (0 = up to 2, by CPU count).
LANBITOU_PRINT_TIME_LIMIT = env_int("LANBITOU_PRINT_TIME_LIMIT", 900)  # seconds
LANBITOU_PRINT_MEMORY_MB = env_int("LANBITOU_PRINT_MEMORY_MB", 1536)  # whole process tree
LANBITOU_PRINT_WORKERS = env_int("LANBITOU_PRINT_WORKERS", 0)
# A print worker keeps the next edition's render process started (printing.jobs._Spare).
LANBITOU_PRINT_WARM = env_bool("LANBITOU_PRINT_WARM", True)
# Seconds between a worker's looks for jobs left running by a worker that died.
LANBITOU_RECOVER_EVERY = env_int("LANBITOU_RECOVER_EVERY", 60)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "ops.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"  # no page of ours is ever shown in a frame
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a reverse proxy that terminates TLS (deploy/nginx.conf): one switch.
HTTPS = env_bool("LANBITOU_HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("LANBITOU_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("LANBITOU_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LANBITOU_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("LANBITOU_HSTS_PRELOAD", True)
# The scheme://host[:port] the browser sees when it differs from what reaches Django.
CSRF_TRUSTED_ORIGINS = env_list("LANBITOU_CSRF_TRUSTED_ORIGINS", [])
# E-mail is optional: without a host, leads hand set-password links over themselves.
EMAIL_HOST = env_str("LANBITOU_EMAIL_HOST", "")
EMAIL_PORT = env_int("LANBITOU_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("LANBITOU_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("LANBITOU_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LANBITOU_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env_str("LANBITOU_EMAIL_FROM", "lanbitou@localhost")
LANBITOU_EMAIL_ENABLED = bool(EMAIL_HOST)
# A set-password link handed to a new hire stays valid this long (until first use).
PASSWORD_RESET_TIMEOUT = env_int("LANBITOU_SET_PASSWORD_DAYS", 7) * 24 * 3600

# One JSON object per line on stdout (web requests, workers, errors): grep- and jq-able.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LANBITOU_LOG_LEVEL", "WARNING")},
    "loggers": {
        # Server errors (with their traceback) even when the level is WARNING.
        "django.request": {"level": "ERROR", "propagate": True},
        "ops": {"level": "INFO", "propagate": True},
    },
}
