"""content/ <-> database.

Loading is all or nothing.
Every file is parsed and checked before the database is touched, and the writes run in one
transaction, so a mistake in one file leaves the library exactly as it was. Loading the same
files twice changes nothing. A published version is never rewritten: to change a leaflet's
text, raise its `version` number and the loader publishes a new version that supersedes the old.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .content_files import ContentError, dump_toml_tables, parse_leaflet, read_toml, write_leaflet
from .middleware import write_contacts_snapshot
from .models import Category, Department, GlossaryTerm, LeafletVersion, Procedure
from .sections import SECTIONS


@dataclass
class LoadReport:
    created: list = field(default_factory=list)
    published: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _entries(path, key):
    data = read_toml(path) if path.exists() else {}
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise ContentError(path, 1, f"expected [[{key}]] tables")
    return entries


def _line_of(path, text):
    """The first line of a TOML file that mentions `text`, for pointing at a bad value."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    return 0


def _require(path, entry, keys, kind):
    for key in keys:
        if not str(entry.get(key, "")).strip():
            name = entry.get("slug") or entry.get("term") or "?"
            raise ContentError(path, _line_of(path, str(name)), f"{kind} '{name}' has no '{key}'")


def read_library(content_dir):
    """Parse and cross-check everything; raise ContentError for the first problem found."""
    content_dir = Path(content_dir)
    categories = _entries(content_dir / "categories.toml", "category")
    for entry in categories:
        _require(content_dir / "categories.toml", entry, ("slug", "name", "summary"), "category")
    glossary = _entries(content_dir / "glossary.toml", "term")
    for entry in glossary:
        _require(content_dir / "glossary.toml", entry, ("term", "definition"), "glossary term")
    departments = _entries(content_dir / "departments.toml", "department")
    for entry in departments:
        _require(
            content_dir / "departments.toml",
            entry,
            ("slug", "name", "site", "address", "phone", "opening_hours", "urgent_advice"),
            "department",
        )
    leaflets = [parse_leaflet(p) for p in sorted((content_dir / "leaflets").glob("*.md"))]

    category_slugs = {c["slug"] for c in categories} | set(Category.objects.values_list("slug", flat=True))
    seen_numbers = {}
    for leaflet in leaflets:
        if leaflet.meta["category"] not in category_slugs:
            raise leaflet.error("category", f"unknown category '{leaflet.meta['category']}'")
        number = leaflet.meta["resource_number"]
        if number in seen_numbers:
            raise leaflet.error("resource_number", f"resource number {number} is also used by {seen_numbers[number]}")
        seen_numbers[number] = leaflet.path.name
    procedure_slugs = {l.slug for l in leaflets} | set(Procedure.objects.values_list("slug", flat=True))
    for entry in departments:
        for slug in entry.get("procedures", []):
            if slug not in procedure_slugs:
                path = content_dir / "departments.toml"
                raise ContentError(path, _line_of(path, f'"{slug}"'), f"department '{entry['slug']}' offers unknown procedure '{slug}'")
    return categories, glossary, departments, leaflets


@transaction.atomic
def load_library(content_dir):
    categories, glossary, departments, leaflets = read_library(content_dir)
    report = LoadReport()
    for position, entry in enumerate(categories):
        Category.objects.update_or_create(
            slug=entry["slug"],
            defaults={"name": entry["name"], "summary": entry["summary"], "position": position},
        )
    # Terms first: leaflets link the first use of each term when they are rendered.
    for entry in glossary:
        term = GlossaryTerm.objects.filter(term=entry["term"]).first() or GlossaryTerm(term=entry["term"])
        term.definition = entry["definition"]
        term.also = "\n".join(entry.get("also", []))
        term.save()
    for leaflet in leaflets:
        _load_leaflet(leaflet, report)
    for entry in departments:
        department, _ = Department.objects.update_or_create(
            slug=entry["slug"],
            defaults={
                key: entry.get(key, "")
                for key in ("name", "site", "address", "phone", "email", "opening_hours",
                            "urgent_advice", "out_of_hours", "arrival_instructions")
            },
        )
        department.procedures.set(Procedure.objects.filter(slug__in=entry.get("procedures", [])))
    transaction.on_commit(lambda: write_contacts_snapshot(Department.objects.all()))
    return report


def _load_leaflet(leaflet, report):
    meta = leaflet.meta
    procedure, created = Procedure.objects.update_or_create(
        slug=leaflet.slug,
        defaults={
            "title": meta["title"],
            "resource_number": meta["resource_number"],
            "category": Category.objects.get(slug=meta["category"]),
            "summary": meta["summary"],
            "lay_names": "\n".join(meta.get("lay_names", [])),
            "food_hours": meta.get("food_hours"),
            "clear_fluids_hours": meta.get("clear_fluids_hours"),
        },
    )
    if created:
        report.created.append(leaflet.slug)
    content = {
        "sources": "\n".join(meta["sources"]),
        "is_sample_content": meta.get("sample_content", False),
        "last_reviewed": meta["last_reviewed"],
        "next_review_due": meta.get("next_review_due"),
        **{s.field: leaflet.sections.get(s.field, "") for s in SECTIONS},
    }
    versions = LeafletVersion.objects.filter(procedure=procedure, language="en")
    wanted = meta["version"]

    if meta["status"] != LeafletVersion.Status.PUBLISHED:
        if not versions.drafts().exists():
            LeafletVersion.objects.create(procedure=procedure, **content)
            report.notes.append(f"{leaflet.slug}: draft created")
        else:
            report.unchanged.append(leaflet.slug)
        return

    highest = max(versions.exclude(number=None).values_list("number", flat=True), default=0)
    existing = versions.filter(number=wanted).first()
    if existing:
        if any(getattr(existing, key) != value for key, value in content.items() if value is not None):
            raise leaflet.error(
                "version",
                f"version {wanted} is already published with different text, and a published "
                f"version never changes. Raise 'version' to {highest + 1} to publish this text.",
            )
        report.unchanged.append(leaflet.slug)
        return
    if wanted < highest:
        report.notes.append(
            f"{leaflet.slug}: the database already has version {highest}; "
            f"the file's version {wanted} was not loaded (run export_content to update the file)"
        )
        return
    draft = LeafletVersion.objects.create(procedure=procedure, **content)
    draft.publish(number=wanted)
    report.published.append(f"{leaflet.slug} v{wanted}")


def export_library(content_dir):
    """Database -> content/ files: the live English version of every leaflet, plus
    categories, departments and glossary, in the format load_library reads."""
    content_dir = Path(content_dir)
    (content_dir / "leaflets").mkdir(parents=True, exist_ok=True)
    live = LeafletVersion.objects.current().select_related("procedure__category")
    for version in live:
        procedure = version.procedure
        meta = {
            "title": procedure.title,
            "resource_number": procedure.resource_number,
            "category": procedure.category.slug,
            "summary": procedure.summary,
            "lay_names": procedure.lay_name_list,
            "version": version.number,
            "status": version.status,
            "last_reviewed": version.last_reviewed,
            "next_review_due": version.next_review_due,
            "food_hours": _hours(procedure.food_hours),
            "clear_fluids_hours": _hours(procedure.clear_fluids_hours),
            "sample_content": version.is_sample_content,
            "sources": version.source_list,
        }
        write_leaflet(
            content_dir / "leaflets" / f"{procedure.slug}.md",
            meta,
            {s.field: getattr(version, s.field) for s in SECTIONS},
        )
    dump_toml_tables(
        content_dir / "categories.toml",
        "category",
        [{"slug": c.slug, "name": c.name, "summary": c.summary} for c in Category.objects.all()],
    )
    dump_toml_tables(
        content_dir / "glossary.toml",
        "term",
        [{"term": t.term, "definition": t.definition, "also": [a for a in t.also.splitlines() if a]}
         for t in GlossaryTerm.objects.all()],
    )
    dump_toml_tables(
        content_dir / "departments.toml",
        "department",
        [
            {
                **{key: getattr(d, key) for key in ("slug", "name", "site", "address", "phone", "email",
                                                    "opening_hours", "urgent_advice", "out_of_hours",
                                                    "arrival_instructions")},
                "procedures": sorted(d.procedures.values_list("slug", flat=True)),
            }
            for d in Department.objects.prefetch_related("procedures")
        ],
    )
    return live.count()


def _hours(value):
    """Decimal hours from the database as the plain number a content file holds."""
    if value is None:
        return None
    return int(value) if value == int(value) else float(value)
