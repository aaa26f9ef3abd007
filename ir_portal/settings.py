"""Settings for the IR patient-information portal: one file, configured from the environment.

Every variable is optional for local use; the README lists them all. The defaults are the
safe production ones (DEBUG off, secure cookies follow from HTTPS settings), and `./dev run`
turns DEBUG on for a laptop.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default="0"):
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envlist(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production). "
            "For local use run ./dev run, which turns debug on."
        )
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "markdownx",
    "simple_history",
    "csp",
    "axes",  # admin sign-in lockout after repeated failures (settings below)
    "procedures",
]

MIDDLEWARE = [
    # First: serves a stored public page before anything below runs, and stores a page with
    # every header the middleware below gave it (procedures/caching.py). Staff requests, and
    # anything else that may be personal, pass straight through.
    "procedures.caching.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outermost after those, so every answer (static files, 503 pages) has them.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "procedures.middleware.LocaleMiddleware",  # the language from the URL prefix
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # records who saved each draft
    "procedures.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "ir_portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",  # LANGUAGE_CODE, LANGUAGE_BIDI
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "procedures.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "ir_portal.wsgi.application"

# SQLite on a laptop; PostgreSQL in production and CI via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The interface languages. English pages keep their addresses (/procedures/…); the others are
# served under their prefix (/ar/procedures/…). A leaflet is shown in the page's language
# when an approved translation exists, and in English, marked as such, when not.
LANGUAGES = [
    ("en-gb", "English"),
    ("ar", "العربية"),  # Arabic, written right to left
    ("pl", "Polski"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Remembers a language chosen with the switcher, so the home page opens in it next time.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

# The leaflet library on disk (content/), read by load_content and written by export_content.
CONTENT_DIR = Path(os.environ.get("IR_CONTENT_DIR", BASE_DIR / "content"))

# Shown in the header, page titles and printouts.
PORTAL_NAME = os.environ.get("IR_PORTAL_NAME", "Interventional Radiology patient information")
ORGANISATION_NAME = os.environ.get("IR_ORGANISATION_NAME", "Example NHS Trust")

# django-markdownx: the admin's live preview uses the same sanitising renderer as saving,
# so a nurse previews exactly what patients will see. Uploads: raster images only, 5 MB.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "procedures.markdown.render_markdown"
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 1600), "quality": 85}
MARKDOWNX_MEDIA_PATH = "leaflet-images/"
MARKDOWNX_SKIP_RESIZE = ()
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# HTTPS: on by default in production; turn off only behind a proxy that does it for you.
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", "0" if DEBUG else "1")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True  # page scripts never need the session; stolen-cookie XSS can't
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", "0" if DEBUG else "1")
# The preload token does nothing by itself: browsers preload a domain only after its owner
# submits the registrable domain (hstspreload.org). Turn off if the apex domain must not be.
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", "0" if DEBUG else "1")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working shift
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_FAILURE_VIEW = "procedures.views.csrf_failure"
# Where staff land after signing in when `?next=` is missing or refused (an address on
# another site): the admin's home, not Django's default /accounts/profile/, which is a 404.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# Content-Security-Policy (django-csp). Scripts and styles come only from our own static
# files: no inline code and no nonces, so every public page stays the same for everyone and
# can be cached. Markup that slips past the sanitiser still cannot run. No data: images: neither
# the admin nor markdownx uses them (the browser tests fail on anything this blocks). JSON-LD
# (<script type="application/ld+json">) is data, not script, so it needs nothing here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],  # the editor's live preview and picture upload
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): a leaflet site needs none of these.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Admin sign-in (django-axes): after 5 wrong passwords for one username from one address,
# that pair is locked out for 15 minutes and sees templates/registration/locked_out.html.
# Another address, or another username, can still sign in. Unlock early with
# `manage.py axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_VERBOSE = False  # its start-up banner would print on every manage.py command
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "procedures.views.client_address"

# Email (review reminders). Console in development; SMTP settings from the environment.
if os.environ.get("DJANGO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["DJANGO_EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("DJANGO_EMAIL_USE_TLS", "1")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "ir-leaflets@example.org")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Written whenever departments change; read by the 503 page when the database is down.
OUTAGE_CONTACTS_FILE = Path(
    os.environ.get("IR_OUTAGE_CONTACTS_FILE", BASE_DIR / "var" / "outage-contacts.json")
)

# Lock files for work that only so many workers on this machine may do at once (new searches:
# procedures/throttle.py). On local disk, one folder per machine.
LOCK_DIR = Path(os.environ.get("IR_LOCK_DIR", BASE_DIR / "var" / "locks"))

# Which request header holds the client's address, for feedback flood control (hashed, never
# stored) and the admin sign-in lockout. Behind a proxy, set it to the header the proxy sets,
# for example HTTP_X_REAL_IP: otherwise every visitor seems to come from the proxy.
CLIENT_IP_HEADER = os.environ.get("IR_CLIENT_IP_HEADER", "REMOTE_ADDR")

# -- Page caching (procedures/caching.py) ---------------------------------------------------
# Public pages are cached under the library generation, so publishing needs no purge. These
# say how long copies may be kept: by this server (entries are never stale, this only frees
# memory), and by browsers, proxies and a CDN (a CDN may serve a page this long after a
# change, so keep it short).
PAGE_CACHE_SECONDS = 60 * 60
PUBLIC_PAGE_MAX_AGE = int(os.environ.get("IR_PUBLIC_PAGE_MAX_AGE", "300"))
PUBLIC_PAGE_STALE_WHILE_REVALIDATE = 60
PUBLIC_PAGE_STALE_IF_ERROR = 24 * 60 * 60  # a CDN may show leaflets while the site is down
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Per process; the default 300 entries is fewer pages than a large library has.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 2000)

# -- Reaching the patient --------------------------------------------------------------------
# Usage counts (procedures/usage.py) wait in each process's memory and are written in one
# statement at most this often (and when the process stops), instead of a write per request.
USAGE_FLUSH_SECONDS = int(os.environ.get("IR_USAGE_FLUSH_SECONDS", "60"))
# How an information prescription's link can be sent to a patient (procedures/sending.py).
# Email through Django's email settings above; add an SMS sender's dotted path to offer SMS.
# The address or number is used for one message and never stored.
PRESCRIPTION_SENDERS = envlist("IR_PRESCRIPTION_SENDERS", "procedures.sending.EmailSender")
