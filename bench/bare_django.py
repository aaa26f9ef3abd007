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
    # With its length, as the portal's answers have (CommonMiddleware adds it there): without
    # one, gunicorn would send the answer in chunks, which costs more at both ends.
    return HttpResponse("ok", headers={"Content-Length": "2"})


urlpatterns = [re_path(r"", ok)]  # every address, /healthz included (the start-up probe)
application = get_wsgi_application()
