"""Finding leaflets from the words patients type.

One function, `search(query)`, returns procedures with a live leaflet, best first. This is the
simple backend that works on any database: every word must appear in the title, a lay name,
the summary or the leaflet text. A PostgreSQL full-text backend can replace it behind the same
interface.
"""

from django.db.models import Q

from .models import LeafletVersion, Procedure
from .sections import SECTIONS

MAX_WORDS = 8


def search(query):
    words = query.split()[:MAX_WORDS]
    if not words:
        return []
    live = LeafletVersion.objects.current()
    matches = Procedure.objects.filter(versions__in=live)
    for word in words:
        in_body = Q()
        for section in SECTIONS:
            in_body |= Q(**{f"versions__{section.field}__icontains": word})
        matches = matches.filter(
            Q(title__icontains=word)
            | Q(lay_names__icontains=word)
            | Q(summary__icontains=word)
            | (Q(versions__in=live) & in_body)
        )
    procedures = list(matches.distinct().select_related("category"))
    # Title and lay-name matches first: they are what the patient meant.
    def rank(procedure):
        names = (procedure.title + "\n" + procedure.lay_names).lower()
        return (-sum(word.lower() in names for word in words), procedure.title)

    return sorted(procedures, key=rank)
