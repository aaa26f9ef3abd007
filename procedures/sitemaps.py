from django.contrib.sitemaps import Sitemap

from .models import DEFAULT_LANGUAGE, LeafletVersion, Procedure, interface_language


class LeafletSitemap(Sitemap):
    """Every live leaflet, once per language it is published in, each entry listing the
    others as hreflang alternates (English is also x-default)."""

    changefreq = "monthly"
    i18n = True
    alternates = True
    x_default = True

    def items(self):
        live = {}  # procedure pk -> {language: published_at}
        for procedure_id, language, published_at in LeafletVersion.objects.live().values_list(
            "procedure_id", "language", "published_at"
        ):
            live.setdefault(procedure_id, {})[language] = published_at
        procedures = list(Procedure.objects.filter(pk__in=live).only("slug").order_by("slug"))
        for procedure in procedures:
            procedure.live = live[procedure.pk]
        return procedures

    def get_languages_for_item(self, procedure):
        english_first = sorted(procedure.live, key=lambda language: (language != DEFAULT_LANGUAGE, language))
        return [interface_language(language) for language in english_first]

    def location(self, procedure):
        return procedure.get_absolute_url()  # in the language Sitemap has switched to

    def lastmod(self, procedure):
        return max(procedure.live.values())


SITEMAPS = {"leaflets": LeafletSitemap}
