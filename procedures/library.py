"""content/ <-> database.

Loading is all or nothing.
Every file is parsed and checked before the database is touched, and the writes run in one
transaction, so a mistake in one file leaves the library exactly as it was. Loading the same
files twice changes nothing. A published version is never rewritten: to change a leaflet's
text, raise its `version` number and the loader publishes a new version that supersedes the old.
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from . import workflow
from .content_files import (
    TABLES,
    ContentError,
    dump_toml_tables,
    line_of,
    name_problem,
    parse_leaflet,
    parse_translation,
    write_leaflet,
)
from .middleware import write_contacts_snapshot
from .models import (
    DEFAULT_LANGUAGE,
    DEFAULT_REVIEW_MONTHS,
    Category,
    Department,
    GlossaryTerm,
    LeafletVersion,
    Procedure,
    translation_languages,
)
from .sections import SECTIONS


@dataclass
class LoadReport:
    created: list = field(default_factory=list)
    published: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _tables(content_dir):
    """categories, glossary and departments, each entry checked (content_files.TABLES); the
    first problem found is raised, with its file and line."""
    tables = []
    for table in (TABLES["categories"], TABLES["glossary"], TABLES["departments"]):
        entries = table.entries(content_dir)
        for problem in table.problems(content_dir, entries):
            raise problem
        tables.append(entries)
    return tables


def _leaflet_files(folder):
    paths = sorted(Path(folder).glob("*.md"))
    for path in paths:
        problem = name_problem(path)
        if problem:
            raise problem
    return paths


def read_library(content_dir):
    """Parse and cross-check everything; raise ContentError for the first problem found."""
    content_dir = Path(content_dir)
    categories, glossary, departments = _tables(content_dir)
    leaflets = [parse_leaflet(p) for p in _leaflet_files(content_dir / "leaflets")]
    translations = read_translations(content_dir, {leaflet.slug: leaflet for leaflet in leaflets})

    category_slugs = {c["slug"] for c in categories} | set(Category.objects.values_list("slug", flat=True))
    seen_numbers = {}
    for leaflet in leaflets:
        if leaflet.meta["category"] not in category_slugs:
            raise leaflet.error("category", f"unknown category '{leaflet.meta['category']}'")
        number = leaflet.meta["resource_number"]
        if number in seen_numbers:
            raise leaflet.error(
                "resource_number", f"resource number {number} is also used by {seen_numbers[number]}"
            )
        seen_numbers[number] = leaflet.path.name
    procedure_slugs = {leaflet.slug for leaflet in leaflets} | set(
        Procedure.objects.values_list("slug", flat=True)
    )
    # A backup (export_library) also lists leaflets with no live version under versions/.
    procedure_slugs |= _archived_slugs(content_dir)
    for entry in departments:
        for slug in entry.get("procedures", []):
            if slug not in procedure_slugs:
                path = content_dir / "departments.toml"
                raise ContentError(
                    path,
                    line_of(path, f'"{slug}"'),
                    f"department '{entry['slug']}' offers unknown procedure '{slug}'",
                )
    return categories, glossary, departments, leaflets, translations


def read_translations(content_dir, leaflets):
    """content/translations/<language>/<slug>.md, checked against the English files
    (`leaflets`, by slug) and the database: the leaflet must exist and the English version it
    names must be one that was published."""
    folder = Path(content_dir) / "translations"
    if not folder.is_dir():
        return []
    languages = translation_languages()
    translations = []
    for language_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        if language_folder.name not in languages:
            raise ContentError(
                language_folder,
                0,
                f"is not one of the site's languages ({', '.join(languages)}); add it to "
                "LANGUAGES in ir_portal/settings.py first",
            )
        for path in _leaflet_files(language_folder):
            translation = parse_translation(path)
            meta = translation.meta
            if meta["language"] != language_folder.name:
                raise translation.error(
                    "language",
                    f"says language '{meta['language']}' but is in the '{language_folder.name}' folder",
                )
            english = leaflets.get(translation.slug)
            stored = (
                LeafletVersion.objects.ever_published()
                .filter(procedure__slug=translation.slug, language=DEFAULT_LANGUAGE)
                .values_list("number", flat=True)
            )
            known = set(stored) | (
                {english.meta["version"]} if english and english.meta["status"] == "published" else set()
            )
            if english is None and not stored:
                raise ContentError(
                    path, 0, f"translates '{translation.slug}', which has no English leaflet in leaflets/"
                )
            if meta["translation_of"] not in known and meta["translation_of"] >= max(known, default=0):
                raise translation.error(
                    "translation_of",
                    f"English version {meta['translation_of']} of {translation.slug} was never published "
                    f"(published: {', '.join(str(n) for n in sorted(known)) or 'none'})",
                )
            # An older English version that this database never held (a backup read by
            # load_content rather than import_content) is reported and skipped in load_library.
            translations.append(translation)
    return translations


@transaction.atomic
def load_library(content_dir):
    categories, glossary, departments, leaflets, translations = read_library(content_dir)
    report = LoadReport()
    for position, entry in enumerate(categories):
        Category.objects.update_or_create(
            slug=entry["slug"],
            defaults={"name": entry["name"], "summary": entry["summary"], "position": position},
        )
    # Terms first: leaflets link the first use of each term when they are rendered.
    for entry in glossary:
        term = GlossaryTerm.objects.filter(term=entry["term"]).first() or GlossaryTerm(term=entry["term"])
        term.slug = entry.get("slug") or term.slug
        term.definition = entry["definition"]
        term.also = "\n".join(entry.get("also", []))
        term.save()
    for leaflet in leaflets:
        _load_leaflet(leaflet, report)
    # After the English leaflets: each translation names the English version it came from.
    for translation in translations:
        _load_translation(translation, report)
    for entry in departments:
        department, _ = Department.objects.update_or_create(
            slug=entry["slug"],
            defaults={key: entry.get(key, "") for key in DEPARTMENT_FIELDS if key != "slug"},
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
            "sedation": meta.get("sedation", ""),
            "puncture": meta.get("puncture", ""),
        },
    )
    if created:
        report.created.append(leaflet.slug)
    _load_version(leaflet, procedure, DEFAULT_LANGUAGE, _version_content(leaflet), report)


def _load_translation(translation, report):
    meta = translation.meta
    procedure = Procedure.objects.get(slug=translation.slug)
    source = (
        LeafletVersion.objects.ever_published()
        .filter(procedure=procedure, language=DEFAULT_LANGUAGE, number=meta["translation_of"])
        .first()
    )
    if source is None:
        report.notes.append(
            f"{translation.slug} [{meta['language']}]: translates English version "
            f"{meta['translation_of']}, which this database does not hold, so it was not loaded "
            "(restore a backup with import_content to keep every version)"
        )
        return
    content = {
        **_version_content(translation),
        "translation_of": source,
        "title": meta["title"],
        "summary": meta["summary"],
        "lay_names": "\n".join(meta.get("lay_names", [])),
    }
    _load_version(translation, procedure, meta["language"], content, report)


def _version_content(leaflet):
    meta = leaflet.meta
    return {
        "sources": "\n".join(meta["sources"]),
        "is_sample_content": meta.get("sample_content", False),
        "last_reviewed": meta["last_reviewed"],
        "next_review_due": meta.get("next_review_due"),
        **{s.field: leaflet.sections.get(s.field, "") for s in SECTIONS},
    }


def _load_version(leaflet, procedure, language, content, report):
    """Publish the file's version, unless the database has it (or a later one) already."""
    meta = leaflet.meta
    label = leaflet.slug if language == DEFAULT_LANGUAGE else f"{leaflet.slug} [{language}]"
    versions = LeafletVersion.objects.filter(procedure=procedure, language=language)
    wanted = meta["version"]

    if meta["status"] != LeafletVersion.Status.PUBLISHED:
        if not versions.drafts().exists():
            workflow.create_draft(
                LeafletVersion(procedure=procedure, language=language, **content),
                comment="Draft loaded from the content files",
            )
            report.notes.append(f"{label}: draft created")
        else:
            report.unchanged.append(label)
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
        report.unchanged.append(label)
        return
    if wanted < highest:
        report.notes.append(
            f"{label}: the database already has version {highest}; "
            f"the file's version {wanted} was not loaded (run export_content to update the file)"
        )
        return
    # Straight into the record as the live version: a nurse's draft of the leaflet, if there
    # is one, stays as it is.
    workflow.publish_text(LeafletVersion(procedure=procedure, language=language, **content), number=wanted)
    report.published.append(f"{label} v{wanted}")


@dataclass
class ExportReport:
    live: int = 0
    translations: int = 0
    versions: int = 0
    drafts: int = 0


def export_library(content_dir):
    """Database -> files: the whole library, as a backup that import_library restores.

        categories.toml, glossary.toml, departments.toml
        leaflets/<slug>.md            the live English version, in the content/ format, so
                                      load_content reads an export like the library itself
        versions/<slug>/v<n>.md       every numbered version: published, superseded, withdrawn
        versions/<slug>/draft.md      a draft or a version in review (draft-2.md if two)

    Version files use the leaflet format with more front matter: the version's own status,
    published_at, retired_at and created_at (UTC), author and approver (usernames), and the
    procedure's owner and review interval. Other languages get a suffix: v<n>.<lang>.md.
    """
    content_dir = Path(content_dir)
    (content_dir / "leaflets").mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    versions = LeafletVersion.objects.select_related(
        "procedure__category", "procedure__owner", "author", "approver", "translation_of"
    ).order_by("procedure__slug", "language", "number", "created_at", "pk")
    drafts_seen = {}
    for version in versions:
        procedure = version.procedure
        meta = {**_procedure_meta(procedure), **_version_meta(version)}
        sections = {s.field: getattr(version, s.field) for s in SECTIONS}
        suffix = "" if version.language == DEFAULT_LANGUAGE else f".{version.language}"
        folder = content_dir / "versions" / procedure.slug
        folder.mkdir(parents=True, exist_ok=True)
        if version.number:
            write_leaflet(folder / f"v{version.number}{suffix}.md", meta, sections)
            report.versions += 1
        else:
            key = (procedure.pk, version.language)
            drafts_seen[key] = drafts_seen.get(key, 0) + 1
            count = f"-{drafts_seen[key]}" if drafts_seen[key] > 1 else ""
            # A draft gets the number it would be published as, which the format requires.
            meta["version"] = 1 + max(
                (
                    n
                    for n in procedure.versions.filter(language=version.language).values_list(
                        "number", flat=True
                    )
                    if n
                ),
                default=0,
            )
            write_leaflet(folder / f"draft{count}{suffix}.md", meta, sections)
            report.drafts += 1
        if version.status == LeafletVersion.Status.PUBLISHED and version.language == DEFAULT_LANGUAGE:
            live_meta = {key: meta[key] for key in LEAFLET_KEYS if key in meta}
            write_leaflet(content_dir / "leaflets" / f"{procedure.slug}.md", live_meta, sections)
            report.live += 1
        elif version.status == LeafletVersion.Status.PUBLISHED:
            folder = content_dir / "translations" / version.language
            folder.mkdir(parents=True, exist_ok=True)
            write_leaflet(folder / f"{procedure.slug}.md", _translation_file_meta(version), sections)
            report.translations += 1
    dump_toml_tables(
        content_dir / "categories.toml",
        "category",
        [{"slug": c.slug, "name": c.name, "summary": c.summary} for c in Category.objects.all()],
    )
    dump_toml_tables(
        content_dir / "glossary.toml",
        "term",
        [
            {
                "term": t.term,
                "slug": t.slug,
                "definition": t.definition,
                "also": [a for a in t.also.splitlines() if a],
            }
            for t in GlossaryTerm.objects.all()
        ],
    )
    dump_toml_tables(
        content_dir / "departments.toml",
        "department",
        [
            {
                **{key: getattr(d, key) for key in DEPARTMENT_FIELDS},
                "procedures": sorted(d.procedures.values_list("slug", flat=True)),
            }
            for d in Department.objects.prefetch_related("procedures")
        ],
    )
    return report


# The front matter of a content/ leaflet file, in the order it is written.
LEAFLET_KEYS = (
    "title",
    "resource_number",
    "category",
    "summary",
    "lay_names",
    "version",
    "status",
    "last_reviewed",
    "next_review_due",
    "food_hours",
    "clear_fluids_hours",
    "sedation",
    "puncture",
    "sample_content",
    "sources",
)
DEPARTMENT_FIELDS = (
    "slug",
    "name",
    "site",
    "address",
    "phone",
    "email",
    "opening_hours",
    "urgent_advice",
    "out_of_hours",
    "arrival_instructions",
    "switchboard",
    "out_of_hours_route",
    "pals",
    "pharmacy_helpline",
)


def _translation_file_meta(version):
    """The front matter of a content/translations/ file, as the library itself writes it."""
    return {
        "language": version.language,
        "translation_of": version.translation_of.number if version.translation_of else None,
        "title": version.title,
        "summary": version.summary,
        "lay_names": [name.strip() for name in version.lay_names.splitlines() if name.strip()],
        "version": version.number,
        "status": version.status,
        "last_reviewed": version.last_reviewed,
        "next_review_due": version.next_review_due,
        "sample_content": version.is_sample_content,
        "sources": version.source_list,
    }


def _procedure_meta(procedure):
    return {
        "title": procedure.title,
        "resource_number": procedure.resource_number,
        "category": procedure.category.slug,
        "summary": procedure.summary,
        "lay_names": procedure.lay_name_list,
        "food_hours": _hours(procedure.food_hours),
        "clear_fluids_hours": _hours(procedure.clear_fluids_hours),
        "sedation": procedure.sedation or None,
        "puncture": procedure.puncture or None,
        "review_interval_months": procedure.review_interval_months,
        "owner": procedure.owner.get_username() if procedure.owner else None,
    }


def _utc(moment):
    return moment.astimezone(datetime.UTC) if moment else None


def _version_meta(version):
    return {
        "version": version.number,
        "status": version.status,
        "language": None if version.language == DEFAULT_LANGUAGE else version.language,
        # A translation's own words and the English version it was made from.
        "translation_of": version.translation_of.number if version.translation_of else None,
        "translated_title": version.title or None,
        "translated_summary": version.summary or None,
        "translated_lay_names": [n.strip() for n in version.lay_names.splitlines() if n.strip()] or None,
        "last_reviewed": version.last_reviewed,
        "next_review_due": version.next_review_due,
        "sample_content": version.is_sample_content,
        "sources": version.source_list,
        "published_at": _utc(version.published_at),
        "retired_at": _utc(version.retired_at),
        "created_at": _utc(version.created_at),
        "author": version.author.get_username() if version.author else None,
        "approver": version.approver.get_username() if version.approver else None,
    }


def _archived_slugs(content_dir):
    folder = Path(content_dir) / "versions"
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()


# -- restoring a backup ----------------------------------------------------------------------

NUMBERED = ("published", "superseded", "withdrawn")


@dataclass
class ArchivedVersion:
    slug: str
    leaflet: object  # LeafletFile

    @property
    def meta(self):
        return self.leaflet.meta

    @property
    def number(self):
        return self.meta["version"] if self.meta["status"] in NUMBERED else None

    @property
    def language(self):
        return self.meta.get("language", DEFAULT_LANGUAGE)


def read_archive(content_dir):
    """Parse and cross-check a backup; raise ContentError for the first problem found."""
    content_dir = Path(content_dir)
    if not (content_dir / "versions").is_dir():
        raise ContentError(
            content_dir,
            0,
            "has no versions/ folder, so it is a content library, not a backup made by "
            "export_content. Load a content library with load_content instead.",
        )
    categories, glossary, departments = _tables(content_dir)

    versions = []
    for folder in sorted(p for p in (content_dir / "versions").iterdir() if p.is_dir()):
        problem = name_problem(folder)
        if problem:
            raise problem
        for path in sorted(folder.glob("*.md")):
            leaflet = parse_leaflet(path, complete=False)
            versions.append(ArchivedVersion(folder.name, leaflet))
            _check_archived(leaflet)

    category_slugs = {c["slug"] for c in categories}
    seen, resource_numbers, live = set(), {}, set()
    for archived in versions:
        meta, leaflet = archived.meta, archived.leaflet
        if meta["category"] not in category_slugs:
            raise leaflet.error("category", f"unknown category '{meta['category']}'")
        owner = resource_numbers.setdefault(meta["resource_number"], archived.slug)
        if owner != archived.slug:
            raise leaflet.error(
                "resource_number", f"resource number {meta['resource_number']} is also used by {owner}"
            )
        if archived.number is not None:
            key = (archived.slug, archived.language, archived.number)
            if key in seen:
                raise leaflet.error("version", f"version {archived.number} appears twice")
            seen.add(key)
        if meta["status"] == "published":
            if (archived.slug, archived.language) in live:
                raise leaflet.error("status", "a leaflet can have only one published version")
            live.add((archived.slug, archived.language))
    slugs = {a.slug for a in versions}
    for entry in departments:
        for slug in entry.get("procedures", []):
            if slug not in slugs:
                path = content_dir / "departments.toml"
                raise ContentError(
                    path,
                    line_of(path, f'"{slug}"'),
                    f"department '{entry['slug']}' offers unknown procedure '{slug}'",
                )
    return categories, glossary, departments, versions


def _check_archived(leaflet):
    meta = leaflet.meta
    wants = {
        "published_at": meta["status"] in NUMBERED,
        "retired_at": meta["status"] in ("superseded", "withdrawn"),
    }
    for key, required in wants.items():
        value = meta.get(key)
        if (required and value is None) or (value is not None and not isinstance(value, datetime.datetime)):
            raise leaflet.error(
                key, f"a {meta['status']} version needs '{key}' as a date and time like 2026-11-01T09:30:00Z"
            )


@dataclass
class ImportReport:
    versions: int = 0
    drafts: int = 0
    procedures: int = 0
    notes: list = field(default_factory=list)


@transaction.atomic
def import_library(content_dir):
    """Rebuild a backup made by export_library in an empty database: every version with its
    number, status, dates, author and approver, so every version keeps its address and page.

    People are matched by username. Someone named in the backup who has no account here gets
    an inactive account with no password, so the record still says who approved what; an
    administrator can activate it and set a password if that person still needs to sign in.
    """
    if Procedure.objects.exists() or Category.objects.exists():
        raise ContentError(
            content_dir,
            0,
            f"the database already holds {Procedure.objects.count()} leaflets. import_content "
            "restores a backup into an empty database only; run it after 'migrate' on a new one.",
        )
    categories, glossary, departments, versions = read_archive(content_dir)
    report = ImportReport()
    people = {}

    def person(username):
        if not username:
            return None
        if username not in people:
            User = get_user_model()
            user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
            if user is None:
                user = User(**{User.USERNAME_FIELD: username}, is_active=False)
                user.set_unusable_password()
                user.save()
                report.notes.append(f"made an inactive account for '{username}', named in the record")
            people[username] = user
        return people[username]

    for position, entry in enumerate(categories):
        Category.objects.create(
            slug=entry["slug"], name=entry["name"], summary=entry["summary"], position=position
        )
    # Terms before versions: versions link the first use of each term when they are rendered.
    for entry in glossary:
        GlossaryTerm.objects.create(
            term=entry["term"],
            slug=entry.get("slug", ""),
            definition=entry["definition"],
            also="\n".join(entry.get("also", [])),
        )

    by_slug = {}
    for archived in versions:
        by_slug.setdefault(archived.slug, []).append(archived)
    for slug, archived_versions in by_slug.items():
        # The procedure as it is now: from its newest file (all carry the same values).
        newest = max(archived_versions, key=lambda a: (a.number is None, a.number or 0)).meta
        procedure = Procedure.objects.create(
            slug=slug,
            title=newest["title"],
            resource_number=newest["resource_number"],
            category=Category.objects.get(slug=newest["category"]),
            summary=newest["summary"],
            lay_names="\n".join(newest.get("lay_names", [])),
            food_hours=newest.get("food_hours"),
            clear_fluids_hours=newest.get("clear_fluids_hours"),
            sedation=newest.get("sedation", ""),
            puncture=newest.get("puncture", ""),
            review_interval_months=newest.get("review_interval_months", DEFAULT_REVIEW_MONTHS),
            owner=person(newest.get("owner")),
        )
        report.procedures += 1
        # English first: a translation names the English version it was made from.
        for archived in sorted(
            archived_versions, key=lambda a: (a.language != DEFAULT_LANGUAGE, a.number is None, a.number or 0)
        ):
            _restore_version(procedure, archived, person)
            if archived.number is None:
                report.drafts += 1
            else:
                report.versions += 1

    for entry in departments:
        department = Department.objects.create(**{key: entry.get(key, "") for key in DEPARTMENT_FIELDS})
        department.procedures.set(Procedure.objects.filter(slug__in=entry.get("procedures", [])))
    # The versions went in with their own statuses, after their procedures were indexed with
    # no live text: index every procedure now, or search would find nothing.
    workflow.reindex_all()
    transaction.on_commit(lambda: write_contacts_snapshot(Department.objects.all()))
    return report


def _restore_version(procedure, archived, person):
    meta, leaflet = archived.meta, archived.leaflet
    version = LeafletVersion(
        procedure=procedure,
        language=archived.language,
        sources="\n".join(meta["sources"]),
        is_sample_content=meta.get("sample_content", False),
        last_reviewed=meta["last_reviewed"],
        next_review_due=meta.get("next_review_due"),
        author=person(meta.get("author")),
        translation_of=LeafletVersion.objects.filter(
            procedure=procedure, language=DEFAULT_LANGUAGE, number=meta["translation_of"]
        ).first()
        if meta.get("translation_of")
        else None,
        title=meta.get("translated_title", ""),
        summary=meta.get("translated_summary", ""),
        lay_names="\n".join(meta.get("translated_lay_names", [])),
        **{s.field: leaflet.sections.get(s.field, "") for s in SECTIONS},
    )
    workflow.enter_record(
        version,
        meta["status"],
        approver=person(meta.get("approver")),
        number=archived.number,
        published_at=meta.get("published_at"),
        retired_at=meta.get("retired_at"),
        created_at=meta.get("created_at"),
    )


def _hours(value):
    """Decimal hours from the database as the plain number a content file holds."""
    if value is None:
        return None
    return int(value) if value == int(value) else float(value)
