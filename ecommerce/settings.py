"""Project settings, read from the environment (12-factor).

Every setting has an embedded default so that a fresh clone runs with no server at all:
SQLite, a file cache, in-process event delivery, database search and local files.
Production points the same code at PostgreSQL, Redis, Kafka, Elasticsearch and S3 through
environment variables only.
"""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers

from ecommerce.db import build_databases

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The embedded default lets `make run` and the tests start; `manage.py check --deploy` (run by
# the image's web role) refuses it.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = env.bool("CORS_ALLOW_ALL_ORIGINS", default=True)
CORS_EXPOSE_HEADERS = ["X-Request-ID"]
# POST /orders honours Idempotency-Key: a shop on another origin must be allowed to send it.
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The Django admin's session and CSRF cookies travel over HTTPS only, outside DEBUG (TLS ends at
# the Ingress; SECURE_PROXY_SSL_HEADER tells Django). SECURE_COOKIES=0 for an admin reached over
# plain HTTP on an address browsers do not trust as they trust localhost.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
# HSTS is for the operator to switch on once every host name is served over HTTPS (0 = off).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

# Split deployment: the apps whose URLs, consumers and tasks this process serves.
ECOMMERCE_SERVICES = env.list("ECOMMERCE_SERVICES", default=["all"])
# Benchmarks only (bench/limit): the bare-Django reference view of the product list.
BENCH_LIMIT_VIEW = env.bool("BENCH_LIMIT_VIEW", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.events",
    "apps.auth",
    "apps.catalog",
    "apps.images",
    "apps.cart",
    "apps.search",
    "apps.orders",
]

MIDDLEWARE = [
    "ecommerce.middleware.RequestIdMiddleware",
    "ecommerce.middleware.RejectNullCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ecommerce.urls"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "ecommerce.wsgi.application"
ASGI_APPLICATION = "ecommerce.asgi.application"

# --- Databases: one alias per bounded context (see ecommerce/db.py) -------------------------
DATABASES = build_databases(env, VAR_DIR)
DATABASE_ROUTERS = ["ecommerce.db.ContextRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Parallel test workers (pytest-xdist) must not share Redis databases, topics or indexes.
TEST_WORKER = int(env.str("PYTEST_XDIST_WORKER", default="gw0")[2:] or 0)


def _per_worker_redis(url):
    if not url or not TEST_WORKER:
        return url
    base, _, db = url.rstrip("/").rpartition("/")
    if not db.isdigit():
        return url
    return f"{base}/{int(db) + 8 * TEST_WORKER}"


# --- Cache (throttling, cart store, read caches) ----------------------------------------------
REDIS_URL = _per_worker_redis(env.str("REDIS_URL", default=""))
CART_REDIS_URL = _per_worker_redis(env.str("CART_REDIS_URL", default="")) or REDIS_URL


def _cache(url, key_prefix, fallback_dir):
    if url:
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=1.0),
            },
        }
    if TEST_WORKER:
        fallback_dir = fallback_dir.with_name(f"{fallback_dir.name}-w{TEST_WORKER}")
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(fallback_dir)}


CACHES = {
    "default": _cache(REDIS_URL, "ecom", VAR_DIR / "cache" / "default"),
    "carts": _cache(CART_REDIS_URL, "", VAR_DIR / "cache" / "carts"),
}
CART_TTL_SECONDS = env.int("CART_TTL_SECONDS", default=7 * 24 * 3600)

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "apps.auth.hashers.Argon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

JWT_SECRET = env.str("JWT_SECRET", default=SECRET_KEY)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_LIFETIME_SECONDS", default=3600)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "id",
    "AUTH_HEADER_TYPES": ("Bearer",),
    # simplejwt's AccessToken, refusing an expiry it cannot turn into a date (apps/auth/tokens.py).
    "AUTH_TOKEN_CLASSES": ("apps.auth.tokens.AccessToken",),
    "UPDATE_LAST_LOGIN": False,
}

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.auth.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "ecommerce.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "ecommerce.renderers.LenientContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "ecommerce.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "ecommerce.pagination.PagePagination",
    "PAGE_SIZE": 10,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ecommerce.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env.str("THROTTLE_LOGIN_IP", default="30/min"),
        "login_email": env.str("THROTTLE_LOGIN_EMAIL", default="10/min"),
        "register_ip": env.str("THROTTLE_REGISTER_IP", default="20/hour"),
        "register_email": env.str("THROTTLE_REGISTER_EMAIL", default="5/hour"),
        "guest_lookup": env.str("THROTTLE_GUEST_LOOKUP", default="20/min"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    # Proxies in front of the app (1 behind the Ingress): the throttles then take the client's
    # address from X-Forwarded-For; unset, REMOTE_ADDR is the client (a forged header is ignored).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
MAX_PAGE_SIZE = env.int("MAX_PAGE_SIZE", default=100)
# Read caches of the catalogue (category list, product detail), invalidated by its events; 0 = off.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)
# Products republished per transaction after a category rename or move (apps/catalog/republish.py):
# each chunk holds its products' row locks for about a millisecond per product.
CATALOG_REPUBLISH_CHUNK = env.int("CATALOG_REPUBLISH_CHUNK", default=500)

SPECTACULAR_SETTINGS = {
    "TITLE": "E-commerce API",
    "DESCRIPTION": "Django modular monolith: auth, catalogue, images, carts, search, orders.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["ecommerce.schema.drop_trailing_slash_twins"],
    # Swagger UI from our own static files: the docs page works offline and does not follow
    # whatever a CDN's "latest" is today.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Request bodies: JSON above this size is refused with 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Events (outbox) ---------------------------------------------------------------------------
EVENTS_TRANSPORT = env.str("EVENTS_TRANSPORT", default="inline")  # inline | kafka
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
EVENTS_TOPIC_PREFIX = env.str("EVENTS_TOPIC_PREFIX", default="") + (f"w{TEST_WORKER}_" if TEST_WORKER else "")
EVENTS_SOURCE_SERVICE = env.str("EVENTS_SOURCE_SERVICE", default="ecommerce")
OUTBOX_RETENTION_HOURS = env.int("OUTBOX_RETENTION_HOURS", default=72)
# Relay (apps/events/relay.py): batch, idle poll, per-batch delivery timeout, retry backoff.
EVENTS_RELAY_BATCH_SIZE = env.int("EVENTS_RELAY_BATCH_SIZE", default=500)
EVENTS_RELAY_INTERVAL_SECONDS = env.float("EVENTS_RELAY_INTERVAL_SECONDS", default=0.2)
# Touched by the relay and the consumers at each turn (the image sets it; see apps/events/heartbeat.py).
EVENTS_HEARTBEAT_FILE = env.str("EVENTS_HEARTBEAT_FILE", default="")
EVENTS_RELAY_BACKOFF_MAX_SECONDS = env.int("EVENTS_RELAY_BACKOFF_MAX_SECONDS", default=300)
KAFKA_DELIVERY_TIMEOUT_MS = env.int("KAFKA_DELIVERY_TIMEOUT_MS", default=15000)
KAFKA_SESSION_TIMEOUT_MS = env.int("KAFKA_SESSION_TIMEOUT_MS", default=10000)
# Inbox rows (ProcessedEvent) are kept longer than the broker keeps messages, then pruned.
EVENTS_INBOX_RETENTION_HOURS = env.int("EVENTS_INBOX_RETENTION_HOURS", default=14 * 24)
# Readiness fails when the broker is unreachable only if strict (the outbox lets writes go on).
EVENTS_BROKER_READINESS_STRICT = env.bool("EVENTS_BROKER_READINESS_STRICT", default=False)

# --- Search ------------------------------------------------------------------------------------
SEARCH_BACKEND = env.str("SEARCH_BACKEND", default="database")  # database | elasticsearch
ELASTICSEARCH_URL = env.str("ELASTICSEARCH_URL", default="http://127.0.0.1:9200")
ELASTICSEARCH_INDEX = env.str("ELASTICSEARCH_INDEX", default="products") + (f"_w{TEST_WORKER}" if TEST_WORKER else "")

# --- Orders ------------------------------------------------------------------------------------
ORDER_SHIPPING_COST = env.str("ORDER_SHIPPING_COST", default="9.18")

# --- Files -------------------------------------------------------------------------------------
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"
WHITENOISE_AUTOREFRESH = DEBUG
IMAGE_BASE_URL = env.str("IMAGE_BASE_URL", default="")
# Image uploads (apps/images): size, decoded pixels (decompression bombs), frames, thumbnail box.
IMAGE_MAX_UPLOAD_BYTES = env.int("IMAGE_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
IMAGE_MAX_FRAMES = env.int("IMAGE_MAX_FRAMES", default=300)
IMAGE_THUMBNAIL_SIZE = env.int("IMAGE_THUMBNAIL_SIZE", default=400)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_BEAT_SCHEDULE = {}

# --- i18n --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: one JSON object per line, with the request id ------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ecommerce.middleware.RequestIdLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
