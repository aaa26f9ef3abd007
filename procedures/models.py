"""The leaflet library under document control.

A Procedure is the stable identity of a leaflet (its slug and resource number are printed on
paper, so they never change). Each LeafletVersion is one version of its text. Once published a
version is frozen: its content can never be saved again, only its status can move on
(published -> superseded or withdrawn), and editing starts a new draft.
"""

import datetime
import hashlib
import json
import re
import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import get_language_info
from simple_history import register as keep_history

from . import markdown, readability
from .middleware import write_contacts_snapshot
from .sections import SECTIONS

DEFAULT_REVIEW_MONTHS = 36
DEFAULT_LANGUAGE = "en"  # leaflets in English are served without a URL prefix


def content_language(interface_language):
    """The leaflet language for an interface language: "en-gb" -> "en", "ar" -> "ar".

    Leaflets are written once per language, not per region, so versions store the primary
    subtag while the interface keeps its regional code (British dates and spelling)."""
    return (interface_language or DEFAULT_LANGUAGE).split("-")[0].lower()


def interface_language(language):
    """The URL and interface language for leaflets in `language`: English is the site's own
    regional code (served without a prefix), every other language is itself."""
    return settings.LANGUAGE_CODE if language == DEFAULT_LANGUAGE else language


def translation_languages():
    """The languages a leaflet may be translated into: the site's languages but English."""
    return sorted({content_language(code) for code, _ in settings.LANGUAGES} - {DEFAULT_LANGUAGE})


def text_direction(language):
    try:
        return "rtl" if get_language_info(language)["bidi"] else "ltr"
    except KeyError:  # a language Django does not know: most scripts run left to right
        return "ltr"


def fingerprint(content_hash):
    """The start of a text's hash in groups of four, short enough to compare by eye."""
    return " ".join(content_hash[i : i + 4] for i in range(0, 16, 4))


def tel_link(number):
    return "tel:" + re.sub(r"[^\d+]", "", number)


def add_months(day, months):
    """The same day `months` later, or the month's last day (29 Feb + 12 months = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=200, help_text="One plain sentence shown under the name.")
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("procedures:category", args=[self.slug])


class ProcedureQuerySet(models.QuerySet):
    def with_published_leaflet(self):
        """Procedures a patient can read: those with a live English leaflet."""
        return self.filter(
            Exists(LeafletVersion.objects.live(DEFAULT_LANGUAGE).filter(procedure=OuterRef("pk")))
        )


class Sedation(models.TextChoices):
    LOCAL = "local", "Local anaesthetic only"
    SEDATION = "sedation", "Local anaesthetic and sedation"
    GENERAL = "general", "General anaesthetic"


class Puncture(models.TextChoices):
    NONE = "none", "No needle into an artery or large vein"
    ARTERY = "artery", "Artery (groin or arm)"
    VEIN = "vein", "Large vein or fistula"


class Procedure(models.Model):
    title = models.CharField(max_length=200, help_text="The name patients will see, in plain words.")
    slug = models.SlugField(
        unique=True, help_text="Part of the web address. It is printed on paper: never change it."
    )
    resource_number = models.CharField(
        max_length=20,
        unique=True,
        help_text="Document-control number, for example IR-014. Printed on every copy.",
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="procedures")
    summary = models.CharField(
        max_length=300, help_text="One plain sentence shown in lists and search results."
    )
    lay_names = models.TextField(
        blank=True,
        help_text="Other words patients use for this, one per line (for example 'kidney tube').",
    )
    food_hours = models.DecimalField(
        "stop food (hours before)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="How many hours before arrival the patient stops eating. Leave blank if no fasting.",
    )
    clear_fluids_hours = models.DecimalField(
        "stop clear fluids (hours before)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="How many hours before arrival the patient stops drinking water and clear fluids.",
    )
    # The house style (content/house_style.toml) sets the fasting, escort, driving and bathing
    # rules from these two facts, and check_content holds every leaflet to them.
    sedation = models.CharField(
        max_length=10,
        choices=Sedation.choices,
        blank=True,
        help_text="The most the patient may be given. Sets the fasting and going-home rules.",
    )
    puncture = models.CharField(
        "needle into a blood vessel",
        max_length=10,
        choices=Puncture.choices,
        blank=True,
        help_text="An artery puncture sets the bathing, driving and lifting rules afterwards.",
    )
    review_interval_months = models.PositiveIntegerField(
        default=DEFAULT_REVIEW_MONTHS, help_text="How often the leaflet must be reviewed."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_procedures",
        help_text="The person reminded when a review is due.",
    )

    review_reminder_sent_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="When review_reminders last emailed the owner, so a daily run sends one a week.",
    )
    # Kept by refresh_search_document() for procedures/search.py: the live leaflet's plain
    # text (snippets, and the SQLite search) and, on PostgreSQL, the weighted tsvector.
    search_text = models.TextField(blank=True, editable=False)
    search_document = SearchVectorField(null=True, editable=False)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        # Search's GIN indexes (full text on search_document; pg_trgm on title and lay_names
        # for misspellings) exist on PostgreSQL only, so migration 0005_search makes them
        # there instead of Meta.indexes, which SQLite would try to build too.

    def __str__(self):
        return f"{self.title} ({self.resource_number})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.refresh_search_document()

    def get_absolute_url(self):
        return reverse("procedures:leaflet", args=[self.slug])

    @property
    def lay_name_list(self):
        return [name.strip() for name in self.lay_names.splitlines() if name.strip()]

    def refresh_search_document(self):
        """Re-index for search: the title, lay names, summary and live English leaflet."""
        from .search import index_procedures

        index_procedures(Procedure.objects.filter(pk=self.pk), LeafletVersion.objects.all())


class LeafletVersionQuerySet(models.QuerySet):
    # Bulk operations skip save() and delete(), so the record is guarded here as well. These
    # say where a version stands in the record, never what it says, so they may change.
    STATUS_FIELDS = {
        "status",
        "number",
        "published_at",
        "retired_at",
        "approver",
        "approver_id",
        "revision",
        "created_at",
    }

    def delete(self):
        if self.exclude(status__in=LeafletVersion.EDITABLE_STATUSES).exists():
            raise PublishedVersionLocked("A version given to patients is kept for the record.")
        return super().delete()

    def update(self, **changes):
        if (
            set(changes) - self.STATUS_FIELDS
            and self.exclude(status__in=LeafletVersion.EDITABLE_STATUSES).exists()
        ):
            raise PublishedVersionLocked("A published version's content can never change.")
        return super().update(**changes)

    def published(self):
        """The live versions patients read: one per procedure and language at most."""
        return self.filter(status=LeafletVersion.Status.PUBLISHED)

    def ever_published(self):
        """Versions that were given to patients and so keep their stable URL."""
        return self.filter(status__in=LeafletVersion.ARCHIVED_STATUSES)

    def live(self, language=None):
        """What patients can read: the published version in `language` (every language when
        None). A translation is live only while its English leaflet is: withdrawing the
        English leaflet takes every translation of it off the pages, the check page, the
        sitemap, packs and search, because all of them ask this queryset.
        """
        live = self.published()
        if language == DEFAULT_LANGUAGE:
            return live.filter(language=DEFAULT_LANGUAGE)
        english_live = LeafletVersion.objects.filter(
            procedure=OuterRef("procedure"),
            language=DEFAULT_LANGUAGE,
            status=LeafletVersion.Status.PUBLISHED,
        )
        if language is not None:
            return live.filter(Exists(english_live), language=language)
        return live.filter(Q(language=DEFAULT_LANGUAGE) | Exists(english_live))

    def drafts(self):
        return self.filter(status__in=LeafletVersion.EDITABLE_STATUSES)

    def live_at(self, moment):
        """The versions patients were shown at that moment (one per leaflet and language)."""
        return self.filter(published_at__lte=moment).filter(
            Q(retired_at__isnull=True) | Q(retired_at__gt=moment)
        )

    def live_on(self, day):
        """The versions live at the end of `day`, local time: "which leaflet did they get?"."""
        end = datetime.datetime.combine(day, datetime.time.max)
        return self.live_at(timezone.make_aware(end))

    def due_for_review(self, within=datetime.timedelta(0), today=None):
        """Live versions whose review date has passed or falls within `within` from today."""
        today = today or timezone.localdate()
        return self.published().filter(next_review_due__lte=today + within)


class PublishedVersionLocked(ValidationError):
    pass


class LeafletVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Superseded"
        WITHDRAWN = "withdrawn", "Withdrawn"

    EDITABLE_STATUSES = (Status.DRAFT, Status.IN_REVIEW)
    ARCHIVED_STATUSES = (Status.PUBLISHED, Status.SUPERSEDED)

    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="versions")
    language = models.CharField(max_length=10, default=DEFAULT_LANGUAGE, editable=False)
    # A translation records the English version it was made from, so when the English
    # leaflet moves on, editors and patients are told the translation is behind.
    translation_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="translations",
        verbose_name="translates English version",
        help_text="The English version this text was translated from.",
    )
    title = models.CharField(
        "title in this language",
        max_length=200,
        blank=True,
        help_text="Translations only: the leaflet's name in this language.",
    )
    summary = models.CharField(
        "summary in this language",
        max_length=300,
        blank=True,
        help_text="Translations only: one plain sentence shown in lists.",
    )
    lay_names = models.TextField(
        "other names in this language",
        blank=True,
        help_text="Translations only: words patients use for this, one per line.",
    )
    number = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Given when the version is published: 1, 2, 3… per procedure.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False)
    sources = models.TextField(
        blank=True,
        help_text="Where the facts come from, one per line: organisation and document title.",
    )
    is_sample_content = models.BooleanField(
        "sample content",
        default=True,
        help_text="Shows a notice that the text still needs approval by the local clinical team.",
    )
    last_reviewed = models.DateField(default=timezone.localdate)
    next_review_due = models.DateField(
        blank=True, help_text="Leave blank to set it from the procedure's review interval."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authored_versions",
        editable=False,
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approved_versions",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was superseded or withdrawn."
    )
    reading_ease = models.FloatField(null=True, editable=False)
    reading_grade = models.FloatField(null=True, editable=False)
    # Optimistic locking: each save of a draft claims the next revision, so an editor who
    # saves over someone else's newer save is stopped and shown what changed.
    revision = models.PositiveIntegerField(default=0, editable=False)

    objects = LeafletVersionQuerySet.as_manager()

    class Meta:
        ordering = ["procedure__title", "-number", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "language", "number"], name="one_number_per_version"
            ),
            # At most one live version per leaflet and language; publishing supersedes first.
            models.UniqueConstraint(
                fields=["procedure", "language"],
                condition=Q(status="published"),
                name="one_published_version",
            ),
            # At most one draft (or version in review) per leaflet and language: two would
            # each claim to be the next version, and approving one would lose the other's work.
            models.UniqueConstraint(
                fields=["procedure", "language"],
                condition=Q(status__in=["draft", "in_review"]),
                name="one_draft_per_leaflet",
                violation_error_message="This leaflet already has a draft: carry on with it.",
            ),
        ]
        indexes = [
            # published() lists and the review dashboard filter by status and review date.
            models.Index(fields=["status", "next_review_due"], name="version_status_review"),
        ]
        permissions = [
            ("approve_leafletversion", "Can approve and publish leaflet versions"),
            ("withdraw_leafletversion", "Can withdraw a published leaflet"),
        ]

    def __str__(self):
        label = f"v{self.number}" if self.number else "draft"
        language = f" [{self.language}]" if self.is_translation else ""
        return f"{self.procedure.title}{language} {label} ({self.get_status_display().lower()})"

    def save(self, *args, entering_record=False, **kwargs):
        """`entering_record` is the workflow's alone: a new row that goes straight into the
        record as live (loading content files, a review with no change) or as it was (a
        restore). Any other save is of a draft."""
        # Checked against the database, not this object, so a stale copy cannot slip through.
        stored = self.pk and type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        entering = entering_record and not stored
        if not entering and (
            self.status not in self.EDITABLE_STATUSES or (stored and stored not in self.EDITABLE_STATUSES)
        ):
            raise PublishedVersionLocked(
                "This version has been published and can no longer change. Start a new draft to make changes."
            )
        if not self.next_review_due:
            months = self.procedure.review_interval_months if self.procedure_id else DEFAULT_REVIEW_MONTHS
            self.next_review_due = add_months(self.last_reviewed, months)
        if stored:
            self.revision += 1  # see LeafletVersionForm: editors are stopped on a stale revision
        self.render()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if not self.number:
            return reverse("admin:procedures_leafletversion_preview", args=[self.pk])
        with translation.override(interface_language(self.language)):
            if self.status == self.Status.PUBLISHED:
                return reverse("procedures:leaflet", args=[self.procedure.slug])
            return reverse("procedures:leaflet_version", args=[self.procedure.slug, self.number])

    @property
    def is_editable(self):
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_translation(self):
        return self.language != DEFAULT_LANGUAGE

    @property
    def display_title(self):
        return self.title or self.procedure.title

    @property
    def display_summary(self):
        return self.summary or self.procedure.summary

    @property
    def direction(self):
        return text_direction(self.language)

    @property
    def interface_language(self):
        return interface_language(self.language)

    def is_behind(self, english):
        """Whether this translation was made from an older English text than `english`, the
        live English version (None when there is none, which the caller handles)."""
        return self.is_translation and english is not None and self.translation_of_id != english.pk

    def sections(self):
        """(section, html) pairs in reading order, for templates and the PDF."""
        return [(s, getattr(self, s.html_field)) for s in SECTIONS]

    @property
    def source_list(self):
        return [line.strip() for line in self.sources.splitlines() if line.strip()]

    def glossary_terms(self):
        """The glossary words linked in this version, A to Z, for "Words used in this leaflet".

        Read from the stored HTML (render() linked each term's first use), so a page costs
        one small query and the list matches the links even if the glossary changes later.
        """
        slugs = {slug for _, html in self.sections() for slug in markdown.linked_glossary_slugs(html)}
        return list(GlossaryTerm.objects.filter(slug__in=slugs)) if slugs else []

    @property
    def is_overdue(self):
        return self.next_review_due < timezone.localdate()

    # -- validation and saving -------------------------------------------------------------

    def clean(self):
        errors = {}
        for section in SECTIONS:
            problem = markdown.image_problem(getattr(self, section.field))
            if problem:
                errors[section.field] = problem
        if self.next_review_due and self.last_reviewed and self.next_review_due <= self.last_reviewed:
            errors["next_review_due"] = "The next review must come after the last review."
        if self.is_translation and self.translation_of_id and self.procedure_id:
            source = self.translation_of
            if source.procedure_id != self.procedure_id or source.language != DEFAULT_LANGUAGE:
                errors["translation_of"] = "Choose an English version of this same leaflet."
        if errors:
            raise ValidationError(errors)

    def missing_sections(self):
        return [s for s in SECTIONS if s.required and not getattr(self, s.field).strip()]

    def missing_details(self):
        """What a version needs before review beyond its sections: a translation must say
        what it is called and which English version it translates."""
        if not self.is_translation:
            return []
        return [
            label
            for label, value in (
                ("title in this language", self.title.strip()),
                ("translates English version", self.translation_of_id),
            )
            if not value
        ]

    def delete(self, *args, **kwargs):
        if not self.is_editable:
            raise PublishedVersionLocked("A version given to patients is kept for the record.")
        return super().delete(*args, **kwargs)

    def render(self):
        """Markdown -> sanitised HTML for every section, glossary terms linked on first use."""
        # The word list and the reading-level formulas are English: a translation gets
        # neither, rather than links to English definitions and meaningless scores.
        glossary = [] if self.is_translation else GlossaryTerm.objects.for_linking()
        linked = set()
        for section in SECTIONS:
            html = markdown.render_markdown(getattr(self, section.field))
            setattr(self, section.html_field, markdown.link_glossary(html, glossary, linked))
        if self.is_translation:
            self.reading_ease = self.reading_grade = None
            return
        figures = readability.measure("\n".join(getattr(self, s.field) for s in SECTIONS))
        self.reading_ease, self.reading_grade = figures.reading_ease, figures.grade

    # -- for the workflow (procedures/workflow.py, which alone moves a status) ----------------

    def contributor_ids(self):
        """Everyone who wrote or saved this version: they may not approve it themselves."""
        ids = set(self.history.exclude(history_user=None).values_list("history_user", flat=True))
        return ids | ({self.author_id} if self.author_id else set())

    def content_hash(self):
        """A fingerprint of everything an approver approves: every section as written, the
        sources, the review dates and, for a translation, its own names and English source.
        The approver is shown it, and publishing checks it, so the text that goes live is
        exactly the text that was read."""
        parts = {
            "procedure": self.procedure_id,
            "language": self.language,
            "translation_of": self.translation_of_id,
            "title": self.title,
            "summary": self.summary,
            "lay_names": self.lay_names,
            "sources": self.sources,
            "sample": self.is_sample_content,
            "last_reviewed": str(self.last_reviewed),
            "next_review_due": str(self.next_review_due),
            **{s.field: getattr(self, s.field) for s in SECTIONS},
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _copy(self, **changes):
        """An unsaved new version with this one's text, reviewed today."""
        fields = {
            "procedure": self.procedure,
            "language": self.language,
            "translation_of": self.translation_of,
            "title": self.title,
            "summary": self.summary,
            "lay_names": self.lay_names,
            "sources": self.sources,
            "is_sample_content": self.is_sample_content,
            "last_reviewed": timezone.localdate(),
            **{s.field: getattr(self, s.field) for s in SECTIONS},
        }
        return LeafletVersion(**{**fields, **changes})


for _section in SECTIONS:
    LeafletVersion.add_to_class(
        _section.field, models.TextField(_section.heading, blank=True, help_text=_section.help_text)
    )
    LeafletVersion.add_to_class(_section.html_field, models.TextField(blank=True, editable=False))

# Every save of a draft is kept, after the section fields exist so the history has them.
# The HTML is derived from the Markdown, so only the Markdown is stored.
keep_history(
    LeafletVersion,
    excluded_fields=[s.html_field for s in SECTIONS] + ["reading_ease", "reading_grade"],
)


class WorkflowEvent(models.Model):
    """Who moved which version from what status to what, when, and why."""

    version = models.ForeignKey(LeafletVersion, on_delete=models.PROTECT, related_name="workflow_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Empty when the system did it (loading content files).",
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    comment = models.TextField(blank=True)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="LeafletVersion.content_hash() at this step: what was approved is what went live.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        who = self.actor or "system"
        return f"{self.version}: {self.from_status or 'new'} → {self.to_status} by {who}"

    @property
    def fingerprint(self):
        return fingerprint(self.content_hash)


class Feedback(models.Model):
    """'Is this page useful?' per published version. Nothing that identifies a person."""

    version = models.ForeignKey(LeafletVersion, on_delete=models.PROTECT, related_name="feedback")
    useful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"

    def __str__(self):
        return f"{'Yes' if self.useful else 'No'} on {self.version}"


class Department(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    site = models.CharField(max_length=200, help_text="The hospital or building.")
    address = models.TextField()
    phone = models.CharField(max_length=40)
    email = models.EmailField(blank=True)
    opening_hours = models.TextField(help_text="One line per day or group of days.")
    urgent_advice = models.TextField(
        help_text="What to do if something is wrong after a procedure (Markdown)."
    )
    urgent_advice_html = models.TextField(blank=True, editable=False)
    out_of_hours = models.TextField(
        blank=True, help_text="Who to call when the department is closed (Markdown)."
    )
    out_of_hours_html = models.TextField(blank=True, editable=False)
    arrival_instructions = models.TextField(
        blank=True, help_text="Where to go on the day, parking, buses (Markdown)."
    )
    # The 24-hour route and the PIF TICK contacts, shown by every leaflet's urgent section,
    # print view and PDF from here, so no leaflet has to type (or mistype) a phone number.
    switchboard = models.CharField(
        max_length=40, blank=True, help_text="The hospital switchboard, answered day and night."
    )
    out_of_hours_route = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Who to ask for when the department is closed, for example "
            "'Ask for the on-call interventional radiologist'."
        ),
    )
    pals = models.TextField(
        "PALS",
        blank=True,
        help_text="Patient Advice and Liaison Service: advice, concerns and complaints (phone, email).",
    )
    pharmacy_helpline = models.CharField(
        max_length=200, blank=True, help_text="Phone number and hours for questions about medicines."
    )
    arrival_instructions_html = models.TextField(blank=True, editable=False)
    procedures = models.ManyToManyField(Procedure, blank=True, related_name="departments")

    class Meta:
        ordering = ["site", "name"]

    def __str__(self):
        return f"{self.name}, {self.site}"

    def save(self, *args, **kwargs):
        for field in ("urgent_advice", "out_of_hours", "arrival_instructions"):
            setattr(self, f"{field}_html", markdown.render_markdown(getattr(self, field)))
        super().save(*args, **kwargs)
        transaction.on_commit(lambda: write_contacts_snapshot(Department.objects.all()))

    def get_absolute_url(self):
        return reverse("procedures:department", args=[self.slug])

    @property
    def phone_link(self):
        return tel_link(self.phone)

    @property
    def switchboard_link(self):
        return tel_link(self.switchboard)


class GlossaryTermQuerySet(models.QuerySet):
    def for_linking(self):
        return list(self.values_list("slug", "term", "also"))


class GlossaryTerm(models.Model):
    term = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    definition = models.TextField(help_text="One or two short sentences in plain words.")
    also = models.TextField(
        blank=True, help_text="Other forms of the word used in leaflets, one per line (plurals)."
    )

    objects = GlossaryTermQuerySet.as_manager()

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def save(self, *args, **kwargs):
        # A term may be 100 characters; its slug column holds 50.
        self.slug = self.slug or slugify(self.term)[: self._meta.get_field("slug").max_length]
        super().save(*args, **kwargs)


class ClinicPack(models.Model):
    """A named set of leaflets a clinic prints together, such as "Tuesday biopsy clinic".

    It names procedures, not versions, so a saved pack always prints the live leaflets.
    """

    title = models.CharField(max_length=100, help_text="Printed on the cover.")
    slug = models.SlugField(max_length=120, unique=True)
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="packs",
        help_text="Whose clinic this is; its phone numbers go on every leaflet.",
    )
    procedures = models.ManyToManyField(Procedure, related_name="packs")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["department__site", "title"]

    def __str__(self):
        return f"{self.title} ({self.department.site})" if self.department else self.title


class LibraryGeneration(models.Model):
    """One row whose token changes whenever anything patients can see changes.

    Cached public pages carry the token in their cache key, so a publish, a withdrawal or a
    new phone number is live on the next request with nothing to purge. procedures/caching.py
    reads and changes it; see there for why a random token rather than a counter.
    """

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"library generation {self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


class RequestCount(models.Model):
    """How many times one client, or the whole site, did one thing (left feedback, for
    example) in one window of time: procedures/throttle.py counts here.

    In the database, not in each worker's memory, so every worker process and app server
    counts together and "10 an hour" means 10. The client is a keyed hash of its address,
    never the address, and rows older than the window before last are deleted as new ones
    come.
    """

    key = models.CharField(max_length=100)  # "<purpose>:<hash of the client>" or "<purpose>:site"
    window = models.DateTimeField()  # when the window began
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # The window first, so the same index serves deleting the old windows.
            models.UniqueConstraint(fields=["window", "key"], name="one_count_per_window"),
        ]

    def __str__(self):
        return f"{self.key}: {self.count} since {self.window:%Y-%m-%d %H:%M}"


# -- reaching the patient: information prescriptions, other formats, usage counts ----------

PRESCRIPTION_MONTHS = 6  # how long a prescription link works unless staff choose otherwise


def new_prescription_code():
    """9 random bytes as 12 URL-safe characters: 72 bits, far beyond guessing, short enough
    to type from paper."""
    return secrets.token_urlsafe(9)


class Prescription(models.Model):
    """An information prescription: a set of leaflets clinic staff chose for one patient, behind
    a short link (/p/<code>/) and a QR code.

    Nothing here says who the patient is: no name, no contact details, no appointment. The
    code is the only key; it expires, and staff can revoke it. Each leaflet keeps the version
    first given, so the page can say when it has been updated since.
    """

    code = models.CharField(max_length=16, unique=True, default=new_prescription_code, editable=False)
    language = models.CharField(
        max_length=10,
        default=DEFAULT_LANGUAGE,
        editable=False,
        help_text="The patient's language: the link opens the leaflets in it.",
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prescriptions",
        help_text="Whose phone numbers the patient sees.",
    )
    procedures = models.ManyToManyField(Procedure, through="PrescribedLeaflet", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_on = models.DateField(help_text="The link works until the end of this day.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "information prescription"

    def __str__(self):
        return f"{self.code} ({self.state})"

    def get_absolute_url(self):
        return reverse("procedures:prescription", args=[self.code])

    @property
    def state(self):
        """ "works", "expired" (after the end of expires_on, local time) or "revoked"."""
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_on < timezone.localdate() else "works"

    def revoke(self):
        """Stop the link working, at once: its page may be in the page cache, so the library
        generation moves on (a rare step, like a new phone number). Creating a prescription
        does not need that: nothing was cached for a code that did not exist."""
        from .caching import library_changed

        if not self.revoked_at:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
            library_changed()


class PrescribedLeaflet(models.Model):
    """One leaflet of a prescription, and the version the patient was given first."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="leaflets")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+")
    version_given = models.ForeignKey(LeafletVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescription", "procedure"], name="one_leaflet_once_per_prescription"
            ),
        ]

    def __str__(self):
        return f"{self.procedure.title} (given v{self.version_given.number})"


class FormatRequest(models.Model):
    """A patient's request for a leaflet in another format or language, for the department.

    It holds only what the patient chose to write: the contact box is optional, and marking
    the request done deletes it.
    """

    FORMATS = [
        ("easy_read", "Easy Read"),
        ("audio", "Audio"),
        ("braille", "Braille"),
        ("bsl", "British Sign Language (BSL)"),
        ("interpreter", "An interpreter"),
        ("translation", "A translation into another language"),
    ]

    version = models.ForeignKey(LeafletVersion, on_delete=models.PROTECT, related_name="format_requests")
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="format_requests"
    )
    easy_read = models.BooleanField("Easy Read", default=False)
    audio = models.BooleanField(default=False)
    braille = models.BooleanField(default=False)
    bsl = models.BooleanField("BSL", default=False)
    interpreter = models.BooleanField(default=False)
    translation = models.BooleanField(default=False)
    language = models.CharField(max_length=100, blank=True, help_text="The language asked for, if any.")
    contact = models.TextField(
        blank=True,
        max_length=300,
        help_text="How the patient asked to be contacted, if they did. Deleted when marked done.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["done_at", "-created_at"]  # open requests first, newest first

    def __str__(self):
        return f"{', '.join(self.format_labels()) or 'Request'} for {self.version}"

    def format_labels(self):
        return [label for field, label in self.FORMATS if getattr(self, field)]

    def mark_done(self):
        self.done_at, self.contact = timezone.now(), ""
        self.save(update_fields=["done_at", "contact"])


class UsageCount(models.Model):
    """How often a version was used on one day, in one way: counts only, no visitor is told
    apart from another (no cookie, no address). procedures/usage.py keeps them."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", "page views"
        PDF_DOWNLOAD = "pdf_download", "PDF downloads"
        LARGE_PRINT = "large_print", "large-print PDF downloads"
        PACK_PRINT = "pack_print", "clinic pack prints"
        QR_CHECK = "qr_check", "QR check scans"
        PRESCRIPTION_OPEN = "prescription_open", "prescription opens"

    version = models.ForeignKey(LeafletVersion, on_delete=models.PROTECT, related_name="usage_counts")
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "version", "kind"]
        constraints = [
            # The target of usage.flush()'s INSERT … ON CONFLICT: one row per version, day and kind.
            models.UniqueConstraint(fields=["version", "day", "kind"], name="one_count_per_version_day_kind"),
        ]
        indexes = [
            # The review dashboard sums the last 30 days.
            models.Index(fields=["day"], name="usage_day"),
        ]

    def __str__(self):
        return f"{self.version} on {self.day}: {self.count} {self.get_kind_display()}"
