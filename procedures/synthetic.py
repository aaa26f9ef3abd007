"""A large synthetic leaflet library, for benchmarks and the query-budget tests.

Nothing here is ever loaded by `./dev run` or load_content: only the make_scale_data command
and the tests call it. Every synthetic leaflet says so in its title ("synthetic leaflet"),
has a resource number SYN-00001, SYN-00002, … and sits in a "Synthetic body area" category,
and its text is made of stock sentences that are clearly not clinical advice.

Rows are written with bulk_create, which skips save(): the sanitised *_html fields are made
here (plain paragraphs of escaped text, which is what the Markdown renderer would make of
them), the published versions get their status, number and published_at directly, and the
page-cache generation is bumped once at the end.
"""

import datetime
import random

from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import escape

from . import caching
from .models import Category, Department, GlossaryTerm, LeafletVersion, Procedure
from .sections import SECTIONS

RESOURCE_PREFIX = "SYN-"
SLUG_PREFIX = "synthetic-"
BATCH = 500

KINDS = [
    "Angioplasty",
    "Biopsy",
    "Drain",
    "Embolisation",
    "Fistulogram",
    "Gastrostomy",
    "Injection",
    "Line insertion",
    "Nephrostomy",
    "Oesophageal stent",
    "Radiofrequency ablation",
    "Thrombolysis",
    "Uterine artery embolisation",
    "Vertebroplasty",
    "Cholangiogram",
    "Kyphoplasty",
    "Port insertion",
    "Stent",
    "Venogram",
    "Arteriogram",
]
PLACES = [
    "kidney",
    "liver",
    "lung",
    "bladder",
    "bile duct",
    "leg artery",
    "neck vein",
    "spine",
    "bowel",
    "thyroid",
    "pancreas",
    "prostate",
    "uterus",
    "chest",
    "arm vein",
    "stomach",
]
SENTENCES = [
    "This sentence is synthetic test text for measuring the speed of the website.",
    "A doctor uses a scan to guide a thin needle or tube to the right place.",
    "You will lie on a couch and the team will clean your skin before they start.",
    "Most people go home on the same day, but some stay in hospital for one night.",
    "Tell us if you take blood thinners such as warfarin, apixaban or clopidogrel.",
    "You may feel a sharp scratch when the local anaesthetic goes in.",
    "Bleeding is uncommon and happens to about one in every hundred people.",
    "Do not eat for six hours before you arrive; you may drink water until two hours before.",
    "Bring a list of your medicines and someone to take you home afterwards.",
    "Call the department if the wound becomes red, hot, swollen or starts to leak.",
    "The results usually go to the doctor who asked for the test within two weeks.",
    "If you have a fever, chest pain or heavy bleeding, call 999 straight away.",
    "There may be other options, such as surgery, medicines or waiting to see.",
    "The tube is held in place with a stitch and a dressing that we will show you how to change.",
]
WORDS = [
    "aneurysm",
    "catheter",
    "contrast",
    "sedation",
    "ultrasound",
    "fluoroscopy",
    "cannula",
    "haematoma",
    "sheath",
    "guidewire",
    "stenosis",
    "occlusion",
    "embolus",
    "tract",
    "puncture",
    "dilatation",
    "drainage",
    "infection",
    "allergy",
    "dressing",
]
# Made-up words, so that most words of a large library are rare, as in real text: each leaflet
# gets a handful, and a search for one finds a few leaflets rather than all of them.
_SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "vas", "pel", "dor", "qui", "sen", "ba", "xo"]
MADE_UP = [a + b + c + d for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES for d in "nrx"]


def synthetic_exists():
    return Procedure.objects.filter(resource_number__startswith=RESOURCE_PREFIX).exists()


def real_leaflet_count():
    return Procedure.objects.exclude(resource_number__startswith=RESOURCE_PREFIX).count()


def _paragraphs(rng, topic="", sentences=3, paragraphs=2):
    """Stock sentences every leaflet shares, the leaflet's own topic, and a few rare words."""
    texts = []
    for _ in range(paragraphs):
        words = ", ".join([rng.choice(WORDS), *rng.sample(MADE_UP, 3)])
        stock = " ".join(rng.choice(SENTENCES) for _ in range(sentences))
        texts.append(f"{stock} {topic} Synthetic words: {words}.".replace("  ", " "))
    html = "".join(f"<p>{escape(p)}</p>\n" for p in texts)
    return "\n\n".join(texts), html


def _version(rng, procedure, number, status, published_at, retired_at):
    fields = {}
    topic = f"This synthetic leaflet is about {procedure.summary.split(' about ', 1)[-1].split(':')[0]}."
    for section in SECTIONS:
        text, html = _paragraphs(rng, topic)
        fields[section.field], fields[section.html_field] = text, html
    reviewed = published_at.date()
    return LeafletVersion(
        procedure=procedure,
        language="en",
        number=number,
        status=status,
        published_at=published_at,
        retired_at=retired_at,
        sources="Synthetic source: not clinical advice",
        is_sample_content=True,
        last_reviewed=reviewed,
        next_review_due=reviewed.replace(year=reviewed.year + 3),
        reading_ease=70.0,
        reading_grade=6.0,
        **fields,
    )


@transaction.atomic
def build(leaflets, departments=0, glossary=0, versions=1, categories=10, seed=1, progress=None):
    """Add `leaflets` synthetic procedures, each with `versions` versions (the last one
    published, the others superseded), plus departments and glossary terms.

    Returns the number of each made. `progress(message)` is called now and then.
    """
    progress = progress or (lambda message: None)
    rng = random.Random(seed)
    now = timezone.now()
    start = Procedure.objects.filter(resource_number__startswith=RESOURCE_PREFIX).count()

    areas = []
    for n in range(1, max(1, categories) + 1):
        area, _ = Category.objects.get_or_create(
            slug=f"{SLUG_PREFIX}area-{n:02d}",
            defaults={
                "name": f"Synthetic body area {n:02d}",
                "position": 1000 + n,
                "summary": "Synthetic test leaflets for measuring speed: not clinical advice.",
            },
        )
        areas.append(area)

    procedures = []
    for n in range(start + 1, start + leaflets + 1):
        kind, place = rng.choice(KINDS), rng.choice(PLACES)
        procedures.append(
            Procedure(
                title=f"{kind} of the {place} (synthetic leaflet {n:05d})",
                slug=f"{SLUG_PREFIX}{n:05d}",
                resource_number=f"{RESOURCE_PREFIX}{n:05d}",
                category=areas[n % len(areas)],
                summary=(
                    f"Synthetic test leaflet {n:05d} about a {kind.lower()} of the {place}: "
                    "not clinical advice."
                ),
                lay_names=f"{place} {rng.choice(WORDS)}\nsynthetic {kind.lower()}",
            )
        )
    Procedure.objects.bulk_create(procedures, batch_size=BATCH)
    # SQLite and PostgreSQL both return primary keys from bulk_create.
    progress(f"{len(procedures)} procedures")

    made_versions = 0
    for offset in range(0, len(procedures), BATCH):
        batch = []
        for procedure in procedures[offset : offset + BATCH]:
            first = now - datetime.timedelta(days=30 * versions)
            for number in range(1, versions + 1):
                live = number == versions
                published_at = first + datetime.timedelta(days=30 * (number - 1))
                batch.append(
                    _version(
                        rng,
                        procedure,
                        number,
                        LeafletVersion.Status.PUBLISHED if live else LeafletVersion.Status.SUPERSEDED,
                        published_at,
                        None if live else published_at + datetime.timedelta(days=30),
                    )
                )
        LeafletVersion.objects.bulk_create(batch, batch_size=BATCH)
        made_versions += len(batch)
        progress(f"{made_versions} versions")

    made_departments = []
    base = Department.objects.filter(slug__startswith=SLUG_PREFIX).count()
    for n in range(base + 1, base + departments + 1):
        made_departments.append(
            Department(
                name=f"Synthetic radiology unit {n:03d}",
                slug=f"{SLUG_PREFIX}unit-{n:03d}",
                site=f"Synthetic General Hospital {n:03d}",
                address=f"Synthetic Road {n}\nTestford",
                phone=f"01632 {960000 + n % 1000:06d}"[:13],
                email=f"unit{n}@example.org",
                opening_hours="Monday to Friday, 8am to 6pm",
                urgent_advice="Synthetic test department: not clinical advice.",
                urgent_advice_html="<p>Synthetic test department: not clinical advice.</p>",
            )
        )
    Department.objects.bulk_create(made_departments, batch_size=BATCH)
    if made_departments:
        # Each procedure is offered by one department, round robin.
        through = Department.procedures.through
        links = [
            through(department_id=made_departments[i % len(made_departments)].pk, procedure_id=p.pk)
            for i, p in enumerate(procedures)
        ]
        through.objects.bulk_create(links, batch_size=BATCH)
    progress(f"{len(made_departments)} departments")

    existing_terms = GlossaryTerm.objects.filter(slug__startswith=SLUG_PREFIX).count()
    terms = [
        GlossaryTerm(
            term=f"Synthetic term {n:05d}",
            slug=f"{SLUG_PREFIX}term-{n:05d}",
            definition="A made-up word for measuring speed: not clinical advice.",
        )
        for n in range(existing_terms + 1, existing_terms + glossary + 1)
    ]
    GlossaryTerm.objects.bulk_create(terms, batch_size=BATCH)
    progress(f"{len(terms)} glossary terms")

    if _index_search(procedures):
        progress("search index")
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner takes the new tables for empty ones.
        with connection.cursor() as cursor:
            for model in (Procedure, LeafletVersion, Department, Department.procedures.through, GlossaryTerm):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    caching.library_changed()
    return {
        "leaflets": len(procedures),
        "versions": made_versions,
        "departments": len(made_departments),
        "glossary": len(terms),
    }


def _index_search(procedures):
    """Fill the stored search text (and, on PostgreSQL, the search vector) if the procedures
    have them, with the same function saving a procedure uses."""
    from . import search

    fields = {f.name for f in Procedure._meta.get_fields()}
    if not procedures or "search_text" not in fields or not hasattr(search, "index_procedures"):
        return False
    pks = [p.pk for p in procedures]
    for offset in range(0, len(pks), BATCH):
        search.index_procedures(
            Procedure.objects.filter(pk__in=pks[offset : offset + BATCH]), LeafletVersion.objects.all()
        )
    return True
