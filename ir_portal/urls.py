import re

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from procedures import pictures, uploads, views
from procedures.sitemaps import SITEMAPS

urlpatterns = [
    path("admin/", admin.site.urls),
    # markdownx's own views are open to anyone; these wrap them for staff only.
    path("markdownx/markdownify/", uploads.markdown_preview, name="markdownx_markdownify"),
    path("markdownx/upload/", uploads.image_upload, name="markdownx_upload"),
    # Pictures nurses upload, served by the app on a laptop and in production alike: why, in
    # procedures/pictures.py. Only a picture's file name matches; anything else is a 404.
    re_path(
        rf"^{re.escape(settings.MEDIA_URL.lstrip('/') + settings.MARKDOWNX_MEDIA_PATH)}"
        rf"(?P<name>{pictures.NAME_PATTERN})$",
        pictures.leaflet_picture,
        name="leaflet_picture",
    ),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    # The language switcher's links: remember the choice, then go to the page in it.
    path("language/<str:code>/", views.choose_language, name="choose_language"),
]
# Patient pages: English at the addresses printed on paper, other languages under a prefix.
urlpatterns += i18n_patterns(path("", include("procedures.urls")), prefix_default_language=False)

handler400 = "procedures.views.bad_request"
handler403 = "procedures.views.permission_denied"
handler404 = "procedures.views.page_not_found"
handler500 = "procedures.views.server_error"
