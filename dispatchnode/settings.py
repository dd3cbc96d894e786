"""Django settings for DispatchNode, all read from the environment through `dispatchnode.env`.

Embedded default (DEBUG=1, nothing else set): SQLite under `var/`, Celery tasks executed
in-process (TASKS=inline), console email. Production: DATABASE_URL (PostgreSQL), REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS, PUBLIC_BASE_URL, FIELD_ENCRYPTION_KEY and the EMAIL_* values. See the
configuration table in README.md.
"""

from __future__ import annotations

from pathlib import Path

from dispatchnode.env import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
    task_mode,
    voice_brain_check,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError(
            "SECRET_KEY is required when DEBUG is off (set DEBUG=1 for local development)"
        )
    SECRET_KEY = "dev-insecure-secret-key-only-for-local-debug-never-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL] if PUBLIC_BASE_URL else []
)

# Fernet key (urlsafe base64, 32 bytes) for provider credentials and other secrets at rest.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
if not FIELD_ENCRYPTION_KEY and not DEBUG:
    raise ConfigError(
        "FIELD_ENCRYPTION_KEY is required when DEBUG is off; create one with `python -c "
        '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "dispatchnode.core",
    "dispatchnode.accounts",
    "dispatchnode.api",
    "customers",
    "bookings",
    "invoicing",
    "routing",
    "integrations",
    "dispatchnode.web",
    "dispatchnode.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dispatchnode.api.tenancy.TenancyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dispatchnode.urls"
WSGI_APPLICATION = "dispatchnode.wsgi.application"
ASGI_APPLICATION = "dispatchnode.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_db = parse_database_url(env_str("DATABASE_URL"), sqlite_default=VAR_DIR / "dispatchnode.sqlite3")
DATABASE_IS_SQLITE = _db.is_sqlite
if _db.is_sqlite:
    Path(_db.name).parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": _db.engine,
            "NAME": _db.name,
            "OPTIONS": {
                # Writers take the lock at BEGIN, so two bookers queue instead of deadlocking.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": str(VAR_DIR / "test-dispatchnode.sqlite3")},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": _db.engine,
            "NAME": _db.name,
            "USER": _db.user,
            "PASSWORD": _db.password,
            "HOST": _db.host,
            "PORT": _db.port,
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": dict(_db.options or {}),
        }
    }

# --- Cache, Celery ----------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dispatchnode",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Run mode (docs/operations.md, "Run modes"): "inline" runs tasks in-process, "broker" sends
# them to Redis. Default: inline with DEBUG=1 and no REDIS_URL, else broker (which needs
# REDIS_URL: DEBUG=0 without it refuses to start).
TASKS = task_mode(raw=env_str("TASKS"), debug=DEBUG, redis_url=REDIS_URL)
# Read by dispatchnode/celery.py (namespace CELERY); the rest of Celery's policy lives there.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = TASKS == "inline"

# --- Auth and passwords -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A signed-in session lasts a working day of inactivity at most (renewed on every request).
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # storage and logs; each organisation speaks its own timezone
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Uploaded files (completion signatures); the default storage writes here.
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Email --------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "DispatchNode <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) ----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "dispatchnode.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dispatchnode.api.permissions.HasOrganizationAccess"],
    "DEFAULT_PAGINATION_CLASS": "dispatchnode.api.pagination.DefaultCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dispatchnode.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DispatchNode API",
    "DESCRIPTION": (
        "Tenant-scoped REST API of DispatchNode. Authenticate with `Authorization: Token <key>`. "
        "Another organisation's object is a 404, exactly like a missing one."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # One component per shared choice set, wherever it is nested.
    "ENUM_NAME_OVERRIDES": {
        "ServiceTypeKindEnum": "bookings.models.ServiceType.Kind",
        "JobStatusEnum": "bookings.models.Job.Status",
        "SourceEnum": "customers.models.Source",
        "ReportSourceEnum": "invoicing.selectors_reports.SOURCE_GROUPS",
    },
    # Swagger UI's assets ship in drf-spectacular-sidecar: the docs work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": "INFO"},
        # httpx logs every request at INFO with its full URL, query string (API keys, tokens)
        # included; dispatchnode.core.http logs what operators need without it.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- Product settings ---------------------------------------------------------------------
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo")
DEMO_API_TOKEN = env_str("DEMO_API_TOKEN")
DEMO_TWILIO_AUTH_TOKEN = env_str("DEMO_TWILIO_AUTH_TOKEN", "demo-twilio-auth-token")

# --- Voice agent brain ----------------------------------------------------------------------
# How the phone agent understands callers: "rule" (deterministic, offline) or "llm" (any
# OpenAI-compatible chat completions endpoint with tool calls, with the rule brain as safety floor
# and fallback). See docs/voice-brains.md.
VOICE_BRAIN = env_str("VOICE_BRAIN", "rule").lower()
LLM_BASE_URL = env_str("LLM_BASE_URL").rstrip("/")  # e.g. http://127.0.0.1:11434/v1
LLM_API_KEY = env_str("LLM_API_KEY")  # sent as "Authorization: Bearer …" when set
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")


# The whole budget for one utterance, information-tool rounds included: a caller is waiting.
LLM_TIMEOUT_SECONDS = voice_brain_check(
    brain=VOICE_BRAIN, base_url=LLM_BASE_URL, timeout=env_str("LLM_TIMEOUT_SECONDS", "4")
)

# A phone turn leases its call while it acts (bookings/voice/services.py): a Twilio retry of
# the same turn waits up to VOICE_TURN_WAIT_SECONDS for the answer (Twilio gives up after 15 s);
# the lease of a request that died runs out after VOICE_TURN_LEASE_SECONDS.
VOICE_TURN_LEASE_SECONDS = env_int("VOICE_TURN_LEASE_SECONDS", 12)
VOICE_TURN_WAIT_SECONDS = env_int("VOICE_TURN_WAIT_SECONDS", 10)

# The outbox relay (docs/operations.md): attempts before a delivery is dead-lettered, how many
# deliveries one claim leases and for how long (longer than a batch can take), how long one
# relay run keeps claiming, and how long delivered or never-routed events are kept.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_BATCH_SIZE = env_int("OUTBOX_BATCH_SIZE", 20)
OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 300)
OUTBOX_RELAY_SECONDS = env_int("OUTBOX_RELAY_SECONDS", 60)
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 30)
# The first retry's wait in seconds (then doubling, with jitter); benchmarks shorten it.
OUTBOX_RETRY_BASE_SECONDS = float(env_str("OUTBOX_RETRY_BASE_SECONDS", "15"))
OUTBOX_RETRY_MAX_SECONDS = float(env_str("OUTBOX_RETRY_MAX_SECONDS", str(6 * 3600)))
for _name in ("OUTBOX_MAX_ATTEMPTS", "OUTBOX_BATCH_SIZE", "OUTBOX_LEASE_SECONDS"):
    if globals()[_name] <= 0:
        raise ConfigError(f"{_name} must be a positive whole number, got {globals()[_name]}")

# Geocoding of service locations: "zip" (offline ZIP centroids), "census" or "nominatim"; the
# HTTP ones fall back to ZIP centroids when they find nothing.
GEOCODER = env_str("GEOCODER", "zip").lower()
if GEOCODER not in {"zip", "census", "nominatim"}:
    raise ConfigError(f"GEOCODER must be zip, census or nominatim, got {GEOCODER!r}")
GEOCODER_URL = env_str("GEOCODER_URL").rstrip("/")  # a self-hosted Nominatim, a test fake
GEOCODER_TIMEOUT = env_int("GEOCODER_TIMEOUT", 10)
if GEOCODER_TIMEOUT <= 0:
    raise ConfigError(
        f"GEOCODER_TIMEOUT must be a positive number of seconds, got {GEOCODER_TIMEOUT}"
    )

# --- Outbound SMS ---------------------------------------------------------------------------
# How integrations.messaging sends texts: "twilio" (each organisation's own Twilio account, through
# the REST API) or "console" (one log line on `dispatchnode.sms`, marked sent; demos, development).
SMS_BACKEND = env_str("SMS_BACKEND", "console" if DEBUG else "twilio").lower()
if SMS_BACKEND not in {"twilio", "console"}:
    raise ConfigError(f"SMS_BACKEND must be twilio or console, got {SMS_BACKEND!r}")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "https://api.twilio.com").rstrip("/")
TWILIO_TIMEOUT = 10  # seconds; sending runs in a worker, never in a webhook

# --- Stripe (payments) ----------------------------------------------------------------------
# Base URL of Stripe's API (a local fake in tests). Keys live on each organisation.
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_TIMEOUT = (3.0, 10.0)  # (connect, read) seconds; pay links are made while a page waits
STRIPE_MAX_NETWORK_RETRIES = 2  # the SDK retries timeouts, 409 and 5xx with the same key
STRIPE_WEBHOOK_TOLERANCE = 300  # seconds a signed webhook timestamp may be old

# --- Tenancy --------------------------------------------------------------------------------
# A tenant query with no scope inside a request or task raises TenantScopeError
# (dispatchnode.core.scoping). False only in an emergency: the query then logs and runs unscoped.
TENANT_SCOPE_STRICT = True
