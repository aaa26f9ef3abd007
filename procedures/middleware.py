"""Middleware of our own.

What patients see when the database is down: the departments' phone numbers and urgent
advice, from a small file written whenever departments are loaded or saved, so the page
needs nothing but the disk. And the language middleware, without a wrong Vary header."""

import json
import logging

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.db import DatabaseError, InterfaceError, OperationalError
from django.middleware.locale import LocaleMiddleware as _DjangoLocaleMiddleware
from django.template import loader
from django.utils.translation import get_language_from_path

logger = logging.getLogger(__name__)


def write_contacts_snapshot(departments):
    path = settings.OUTAGE_CONTACTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    contacts = [
        {
            "name": d.name,
            "site": d.site,
            "phone": d.phone,
            "phone_link": d.phone_link,
            "opening_hours": d.opening_hours,
            "switchboard": d.switchboard,
            "switchboard_link": d.switchboard_link if d.switchboard else "",
            "out_of_hours_route": d.out_of_hours_route,
        }
        for d in departments
    ]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(contacts, indent=2), encoding="utf-8")
    temporary.replace(path)  # atomic: a reader never sees half a file


def read_contacts_snapshot():
    try:
        return json.loads(settings.OUTAGE_CONTACTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


def unavailable_response():
    from django.http import HttpResponse

    html = loader.get_template("503.html").render({"contacts": read_contacts_snapshot()})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "60"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) and _database_is_down():
            logger.error("Database unavailable: %s", exception)
            return unavailable_response()
        return None


def _database_is_down():
    """Tell an outage from a bug in one query: a bug must still surface as a 500."""
    from django.db import connection

    if connection.in_atomic_block:
        return True  # cannot reconnect mid-transaction; connection errors here mean an outage
    try:
        connection.close()
        connection.ensure_connection()
        return False
    except DatabaseError:
        return True


class LocaleMiddleware(_DjangoLocaleMiddleware):
    """Django's, without `Vary: Accept-Language` where the language cannot vary.

    With prefix_default_language=False, an address without a language prefix is English
    whatever the browser asks for, yet Django still marks it as varying by Accept-Language,
    which would make a CDN keep one copy of every English page per browser language. The
    English home page, which does send browsers to their language, says so itself
    (views.in_preferred_language).
    """

    def process_response(self, request, response):
        vary_before = response.get("Vary")
        response = super().process_response(request, response)
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        i18n_patterns_used, prefixed_default_language = is_language_prefix_patterns_used(urlconf)
        if (
            i18n_patterns_used
            and not prefixed_default_language
            and get_language_from_path(request.path_info) is None
        ):
            if vary_before is None:
                del response["Vary"]
            else:
                response["Vary"] = vary_before
        return response
