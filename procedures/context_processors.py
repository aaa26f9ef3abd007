from django.conf import settings
from django.utils.translation import gettext


def site(request):
    # The default portal name is in the catalogues; a name set for a deploy shows as set.
    return {"PORTAL_NAME": gettext(settings.PORTAL_NAME), "ORGANISATION_NAME": settings.ORGANISATION_NAME}
