"""The least a Django request can cost, to measure the portal against: no middleware, no
database, no templates, one view that answers HttpResponse("ok") at every address.

bench_pages.py starts it under gunicorn exactly as it starts the portal (same command, same
workers, same port setup), so the two differ only in what Django does for each request.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import re_path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-django-benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "testserver"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def ok(request):
    return HttpResponse("ok")


urlpatterns = [re_path(r"", ok)]  # every address, /healthz included (the start-up probe)
application = get_wsgi_application()
