import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ir_portal.settings")
django_application = get_wsgi_application()  # sets Django up, so procedures can be imported

from procedures.caching import StoredPageFront  # noqa: E402

# Pages this process has served from the page cache are answered before Django's handler runs
# (procedures/caching.py, "Earlier still"); every other request goes to Django.
application = StoredPageFront(django_application)
