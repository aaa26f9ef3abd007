from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from procedures import uploads
from procedures.sitemaps import SITEMAPS

urlpatterns = [
    path("admin/", admin.site.urls),
    # markdownx's own views are open to anyone; these wrap them for staff only.
    path("markdownx/markdownify/", uploads.markdown_preview, name="markdownx_markdownify"),
    path("markdownx/upload/", uploads.image_upload, name="markdownx_upload"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include("procedures.urls")),
]

handler400 = "procedures.views.bad_request"
handler403 = "procedures.views.permission_denied"
handler404 = "procedures.views.page_not_found"
handler500 = "procedures.views.server_error"
