from django.contrib.sitemaps import Sitemap

from .models import LeafletVersion


class LeafletSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return LeafletVersion.objects.current().select_related("procedure").order_by("procedure__slug")

    def location(self, version):
        return version.procedure.get_absolute_url()

    def lastmod(self, version):
        return version.published_at


SITEMAPS = {"leaflets": LeafletSitemap}
