"""The admin is where IR nurses edit leaflets and approvers publish them.

Fieldsets come from the section registry, so the form reads in the same order as the leaflet.
A version that patients have seen is shown read-only; its page offers "Start a new draft".
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from markdownx.widgets import AdminMarkdownxWidget
from simple_history.admin import SimpleHistoryAdmin

from . import history, workflow
from .models import (
    DEFAULT_LANGUAGE,
    Category,
    ClinicPack,
    Department,
    Feedback,
    FormatRequest,
    GlossaryTerm,
    LeafletVersion,
    PrescribedLeaflet,
    Prescription,
    Procedure,
    UsageCount,
    WorkflowEvent,
    fingerprint,
    translation_languages,
)
from .readability import measure
from .sections import SECTION_FIELDS, SECTIONS


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "summary", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["title", "resource_number", "category", "owner"]
    list_filter = ["category"]
    search_fields = ["title", "resource_number", "lay_names", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["owner"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "resource_number", "category", "summary", "lay_names"]}),
        ("Anaesthetic and puncture (set the house-style rules)", {"fields": ["sedation", "puncture"]}),
        ("Fasting before the procedure", {"fields": ["food_hours", "clear_fluids_hours"]}),
        ("Document control", {"fields": ["owner", "review_interval_months"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Slug and resource number are printed on paper and in QR codes.
        return ["slug", "resource_number"] if obj else []

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else self.prepopulated_fields


class ReviewDueFilter(admin.SimpleListFilter):
    title = "review due"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("90", "Due in the next 90 days"), ("later", "Later")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.published().filter(next_review_due__lt=today)
        if self.value() == "90":
            return queryset.due_for_review(within=datetime.timedelta(days=90)).filter(
                next_review_due__gte=today
            )
        if self.value() == "later":
            return queryset.published().filter(next_review_due__gt=today + datetime.timedelta(days=90))
        return queryset


USAGE_DAYS = 30  # the review dashboard's usage counts cover this many days, today included

# Each workflow button: (step in procedures/workflow.py, button label, message on success,
# comment rule)
WORKFLOW_ACTIONS = {
    "submit": (workflow.submit_for_review, _("Send for review"), _("Sent for review."), "optional"),
    "return": (workflow.return_to_draft, _("Send back to draft"), _("Sent back to the editor."), "required"),
    "publish": (
        workflow.publish,
        _("Approve and publish"),
        _("Published: patients now see this version."),
        "optional",
    ),
    "withdraw": (
        workflow.withdraw,
        _("Withdraw from patients"),
        _("Withdrawn: patients no longer see this leaflet."),
        "optional",
    ),
    "review": (
        workflow.record_review,
        _("Record a review with no change"),
        _("Review recorded: the review dates are updated in a new version."),
        "none",
    ),
}


class LeafletVersionForm(forms.ModelForm):
    """The draft form, with optimistic locking: two nurses can open the same draft, but the
    second to save is stopped, shown what the first changed, and loses nothing."""

    # The revision this editor opened; not the model's field, which only the lock may move.
    opened_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "opened_revision" in self.fields and self.instance.pk:
            self.fields["opened_revision"].initial = self.instance.revision
        if "translation_of" in self.fields:
            # Only English versions of this leaflet that patients were given can be a source.
            self.fields["translation_of"].queryset = (
                LeafletVersion.objects.ever_published()
                .filter(procedure_id=self.instance.procedure_id, language=DEFAULT_LANGUAGE)
                .order_by("-number")
            )

    def clean(self):
        cleaned = super().clean()
        procedure = cleaned.get("procedure")
        if not self.instance.pk and procedure is not None:
            existing = (
                LeafletVersion.objects.drafts()
                .filter(procedure=procedure, language=self.instance.language)
                .first()
            )
            if existing:
                url = reverse("admin:procedures_leafletversion_change", args=[existing.pk])
                self.add_error(
                    "procedure",
                    format_html(
                        gettext(
                            'This leaflet already has a draft. <a href="{}">Carry on with that draft</a> '
                            "instead, so nobody's work is lost."
                        ),
                        url,
                    ),
                )
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if not self.instance.pk or self.errors:
            return
        expected = self.cleaned_data.get("opened_revision")
        # One conditional UPDATE is the lock: it holds the row until the admin's transaction
        # commits, and a second editor's UPDATE then finds the revision moved on and claims
        # nothing. save() below moves the instance to the revision claimed here.
        claimed = LeafletVersion.objects.filter(
            pk=self.instance.pk, revision=expected, status__in=LeafletVersion.EDITABLE_STATUSES
        ).update(revision=F("revision") + 1)
        if claimed:
            self.instance.revision = expected
            return
        current = LeafletVersion.objects.get(pk=self.instance.pk)
        started_from = current.history.filter(revision=expected).order_by("-history_date").first()
        latest = current.history.order_by("-history_date").first()
        who = (
            latest.history_user.get_full_name() or latest.history_user.get_username()
            if latest and latest.history_user
            else gettext("Someone")
        )
        changed = history.changed_headings(started_from, current) if started_from else []
        self.conflict = history.section_diffs(started_from, current) if started_from else []
        self.add_error(
            None,
            gettext(
                "%(who)s saved this draft while you were editing it, so nothing was saved. "
                "They changed: %(changed)s. The sections only they changed now hold their "
                "text; the sections you changed still hold yours. Compare their changes (shown "
                "above the form), then press Save again to keep both."
            )
            % {"who": who, "changed": ", ".join(changed) or gettext("the review details")},
        )
        # Saving again now is a deliberate choice made after seeing their changes. It must not
        # undo what they did in the sections this editor left alone: those take their text.
        self.data = self.data.copy()
        self.data["opened_revision"] = current.revision
        if started_from:
            for field, _heading in history.COMPARED_FIELDS:
                untouched = (self.cleaned_data.get(field) or "").strip() == (
                    getattr(started_from, field) or ""
                ).strip()
                if field in self.fields and untouched:
                    self.data[field] = getattr(current, field)


@admin.register(LeafletVersion)
class LeafletVersionAdmin(SimpleHistoryAdmin):
    form = LeafletVersionForm
    list_display = [
        "procedure",
        "language",
        "version_label",
        "status",
        "translation_state",
        "last_reviewed",
        "next_review_due",
        "reading_ease",
        "updated_at",
    ]
    list_filter = ["status", "language", "procedure__category", ReviewDueFilter]
    search_fields = ["procedure__title", "procedure__resource_number", "procedure__lay_names"]
    list_select_related = ["procedure", "translation_of"]
    autocomplete_fields = ["procedure"]
    readonly_fields = ["status_summary", "readability"]
    history_list_display = ["status", "revision"]

    fieldsets = [
        (None, {"fields": ["status_summary", "procedure", "is_sample_content", "opened_revision"]}),
        *[
            (section.heading, {"fields": [section.field], "description": section.help_text})
            for section in SECTIONS
        ],
        ("Sources and review dates", {"fields": ["sources", "last_reviewed", "next_review_due"]}),
        ("Readability", {"fields": ["readability"]}),
    ]
    translation_fieldset = (
        "Translation",
        {
            "fields": ["title", "summary", "lay_names", "translation_of"],
            "description": "Write the title and summary in this language. “Translates English "
            "version” is the English text this translation matches: change it only when every "
            "section has been brought up to date with that version.",
        },
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.is_translation:
            fieldsets.insert(1, self.translation_fieldset)
        return fieldsets

    def get_queryset(self, request):
        # The live English version of each row's leaflet, in the list's own query, for
        # translation_state.
        live_english = LeafletVersion.objects.live(DEFAULT_LANGUAGE).filter(procedure=OuterRef("procedure"))
        return super().get_queryset(request).annotate(live_english_pk=Subquery(live_english.values("pk")[:1]))

    @admin.display(description="translation")
    def translation_state(self, obj):
        """Whether a translation still matches the live English leaflet."""
        if not obj.is_translation:
            return "—"
        live_english = getattr(obj, "live_english_pk", None)
        source = f"from English v{obj.translation_of.number}" if obj.translation_of else "no English source"
        if obj.translation_of_id and obj.translation_of_id == live_english:
            return f"Up to date ({source})"
        return f"Behind English ({source})"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in SECTION_FIELDS:
            kwargs["widget"] = AdminMarkdownxWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj:
            return [*self.readonly_fields, "procedure"]
        return self.readonly_fields

    # Published, superseded and withdrawn versions are the record: the admin shows them
    # view-only, and a POST to their change form is refused.
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)

    def save_model(self, request, obj, form, change):
        if change:
            was_in_review = obj.status == LeafletVersion.Status.IN_REVIEW
            workflow.save_draft(obj, by=request.user)
            if was_in_review:
                messages.warning(
                    request,
                    gettext(
                        "This version was waiting for review. Because its text changed, it is a draft "
                        "again: send it for review when it is ready."
                    ),
                )
        else:
            workflow.create_draft(obj, by=request.user)

    @admin.display(description="version")
    def version_label(self, obj):
        return f"v{obj.number}" if obj.number else "—"

    @admin.display(description="status")
    def status_summary(self, obj):
        if not obj.pk:
            return "New draft"
        parts = [obj.get_status_display()]
        if obj.number:
            parts.append(f"version {obj.number}")
        if obj.published_at:
            parts.append(f"published {timezone.localtime(obj.published_at):%d %B %Y}")
        if obj.approver:
            parts.append(f"approved by {obj.approver.get_full_name() or obj.approver}")
        return ", ".join(parts)

    @admin.display(description="reading level")
    def readability(self, obj):
        if obj.reading_ease is None:
            return "Shown after saving."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (s.heading, f.reading_ease, f.grade, f.words)
                for s in SECTIONS
                for f in [measure(getattr(obj, s.field))]
            ),
        )
        return format_html(
            "<p>Whole leaflet: reading ease {} (aim for 60 or more) · school grade {} "
            "(aim for 8 or less)</p><table><thead><tr><th scope='col'>Section</th>"
            "<th scope='col'>Reading ease</th><th scope='col'>Grade</th><th scope='col'>Words</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            obj.reading_ease,
            obj.reading_grade,
            rows,
        )

    # -- extra admin pages: preview, workflow, compare, restore, live-on, dashboard --------

    def get_urls(self):
        def view(name, route, function):
            return path(route, self.admin_site.admin_view(function), name=f"procedures_leafletversion_{name}")

        return [
            view("dashboard", "dashboard/", self.dashboard_view),
            view("live_on", "live-on/", self.live_on_view),
            view("preview", "<int:pk>/preview/", self.preview_view),
            view("workflow", "<int:pk>/workflow/<str:action>/", self.workflow_view),
            view("new_draft", "<int:pk>/new-draft/", require_POST(self.new_draft_view)),
            view("translate", "<int:pk>/translate/<str:language>/", require_POST(self.translate_view)),
            view("compare", "<int:pk>/compare/", self.compare_view),
            view("restore", "<int:pk>/restore/", require_POST(self.restore_view)),
            *super().get_urls(),
        ]

    def _back(self, pk):
        return redirect(reverse("admin:procedures_leafletversion_change", args=[pk]))

    def preview_view(self, request, pk):
        version = get_object_or_404(LeafletVersion.objects.select_related("procedure"), pk=pk)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        content_hash = version.content_hash()
        return render(
            request,
            "procedures/leaflet.html",
            {
                "version": version,
                "procedure": version.procedure,
                "departments": list(version.procedure.departments.all()),
                "preview": True,
                # The approver approves this text: the link carries its hash to the approval.
                "fingerprint": fingerprint(content_hash),
                "approve_url": reverse("admin:procedures_leafletversion_workflow", args=[pk, "publish"])
                + f"?text={content_hash}"
                if version.status == LeafletVersion.Status.IN_REVIEW
                and request.user.has_perm("procedures.approve_leafletversion")
                else None,
            },
        )

    def workflow_view(self, request, pk, action):
        """GET asks to confirm (and for a comment); POST does it. procedures/workflow.py checks
        the rights and the state."""
        version = get_object_or_404(LeafletVersion.objects.select_related("procedure"), pk=pk)
        if action not in WORKFLOW_ACTIONS:
            raise Http404
        step, label, success, comment_rule = WORKFLOW_ACTIONS[action]
        # An approver approves the text they read: the hash the preview's link carried, or
        # of the text as it is when this page is opened. The form sends it back, and a POST
        # without it approves nothing.
        if request.method == "POST":
            read_hash = request.POST.get("content_hash", "")
        else:
            read_hash = request.GET.get("text") or version.content_hash()
        error, status = None, 200
        if request.method == "POST":
            arguments = {} if comment_rule == "none" else {"comment": request.POST.get("comment", "")}
            if action == "publish":
                arguments["approved_hash"] = read_hash
            try:
                result = step(version, by=request.user, **arguments)
            except workflow.AlreadyDone as done:
                messages.info(request, " ".join(done.messages))
                return self._back(pk)
            except PermissionDenied as problem:
                error, status = str(problem) or gettext("You are not allowed to do that."), 403
            except ValidationError as problem:
                error, status = " ".join(problem.messages), 400
            else:
                messages.success(request, success)
                return self._back(result.pk if isinstance(result, LeafletVersion) else pk)
        elif action == "publish" and read_hash != version.content_hash():
            error = gettext(
                "The text has changed since you previewed it. Preview it again before you approve it."
            )
        return render(
            request,
            "admin/procedures/leafletversion/workflow.html",
            {
                **self.admin_site.each_context(request),
                "version": version,
                "label": label,
                "error": error,
                "comment_rule": comment_rule,
                "title": label,
                "opts": self.model._meta,
                "content_hash": read_hash if action == "publish" else "",
                "fingerprint": fingerprint(read_hash) if action == "publish" else "",
            },
            status=status,
        )

    def new_draft_view(self, request, pk):
        version = get_object_or_404(LeafletVersion, pk=pk)
        return self._start_draft(
            request,
            pk,
            lambda: workflow.start_new_draft(version, by=request.user),
            gettext("New draft started from this version. Patients still see the published one."),
        )

    def translate_view(self, request, pk, language):
        english = get_object_or_404(LeafletVersion, pk=pk)
        return self._start_draft(
            request,
            pk,
            lambda: workflow.start_translation(english, language, by=request.user),
            gettext("Translation draft started. Patients see it only once it is approved."),
        )

    def _start_draft(self, request, pk, start, success):
        """Start a draft and open it; with a draft already there, open that one instead."""
        try:
            draft = start()
        except workflow.DraftExists as exists:
            messages.warning(request, " ".join(exists.messages))
            return self._back(exists.draft.pk)
        except (PermissionDenied, ValidationError) as problem:
            messages.error(request, " ".join(getattr(problem, "messages", [str(problem)])))
            return self._back(pk)
        messages.success(request, success)
        return self._back(draft.pk)

    def compare_view(self, request, pk):
        version = get_object_or_404(LeafletVersion.objects.select_related("procedure"), pk=pk)
        choices = history.choices_for(version.procedure)
        default_old = next(
            (c.key for c in choices if c.record != version and isinstance(c.record, LeafletVersion)), None
        )
        older = history.find(choices, request.GET.get("a", default_old))
        newer = history.find(choices, request.GET.get("b", f"v{version.pk}"))
        return render(
            request,
            "admin/procedures/leafletversion/compare.html",
            {
                **self.admin_site.each_context(request),
                "version": version,
                "choices": choices,
                "older": older,
                "newer": newer,
                "opts": self.model._meta,
                "title": f"Compare versions of {version.procedure.title}",
                "diffs": history.section_diffs(older.record, newer.record) if older and newer else None,
            },
        )

    def restore_view(self, request, pk):
        """Copy an older version's text into a new draft; the record itself never changes."""
        version = get_object_or_404(LeafletVersion, pk=pk)
        chosen = history.find(history.choices_for(version.procedure), request.POST.get("key", ""))
        if chosen is None:
            raise Http404
        fields = {field: getattr(chosen.record, field) for field, _ in history.COMPARED_FIELDS}
        try:
            draft = workflow.start_new_draft(version, by=request.user, **fields)
        except workflow.DraftExists:
            messages.error(
                request,
                gettext("This leaflet already has a draft. Publish or delete it first, then restore."),
            )
            return redirect(
                reverse("admin:procedures_leafletversion_compare", args=[pk]) + f"?a={chosen.key}"
            )
        except PermissionDenied as problem:
            messages.error(request, str(problem))
            return self._back(pk)
        messages.success(
            request, gettext("A new draft now holds the text of: %(label)s.") % {"label": chosen.label}
        )
        return self._back(draft.pk)

    def live_on_view(self, request):
        """Which version was a patient given on a day? For complaints and audits."""
        procedures = Procedure.objects.order_by("title")
        chosen_procedure = request.GET.get("procedure")
        day = parse_date(request.GET.get("date", "") or "")
        live = None
        if chosen_procedure and day:
            live = (
                LeafletVersion.objects.live_on(day)
                .filter(procedure_id=chosen_procedure, language="en")
                .select_related("procedure", "approver")
                .first()
            )
        return render(
            request,
            "admin/procedures/leafletversion/live_on.html",
            {
                **self.admin_site.each_context(request),
                "procedures": procedures,
                "chosen_procedure": chosen_procedure,
                "day": day,
                "live": live,
                "asked": bool(chosen_procedure and day),
                "opts": self.model._meta,
                "title": "Which version was live on a date?",
            },
        )

    def dashboard_view(self, request):
        today = timezone.localdate()
        live = (
            LeafletVersion.objects.published()
            .select_related("procedure__owner", "translation_of")
            .annotate(
                useful_yes=Count("feedback", filter=Q(feedback__useful=True)),
                useful_no=Count("feedback", filter=Q(feedback__useful=False)),
            )
            .order_by("next_review_due")
        )
        overdue = [v for v in live if v.next_review_due < today]
        soon = [v for v in live if today <= v.next_review_due <= today + datetime.timedelta(days=90)]
        by_owner = {}
        for version in overdue + soon:
            owner = version.procedure.owner
            by_owner.setdefault(
                owner.get_full_name() or owner.get_username() if owner else "No owner", []
            ).append(version)
        return render(
            request,
            "admin/procedures/leafletversion/dashboard.html",
            {
                **self.admin_site.each_context(request),
                "overdue": overdue,
                "soon": soon,
                "by_owner": sorted(by_owner.items()),
                "opts": self.model._meta,
                "title": "Review dashboard",
                "today": today,
                "in_review": LeafletVersion.objects.filter(status="in_review").select_related("procedure"),
                "recent_comments": Feedback.objects.exclude(comment="").select_related("version__procedure")[
                    :20
                ],
                "feedback_rows": [v for v in live if v.useful_yes or v.useful_no],
                "translations_behind": self._translations_behind(live),
                "usage_days": USAGE_DAYS,
                "usage_kinds": UsageCount.Kind.choices,
                "usage_rows": self._usage_rows(live, today),
            },
        )

    @staticmethod
    def _usage_rows(live, today):
        """[(version, [count of each kind…]), …] over the last USAGE_DAYS days, for live versions
        that were used, most used first. One query."""
        totals = {}
        for row in (
            UsageCount.objects.filter(
                version__in=[v.pk for v in live], day__gt=today - datetime.timedelta(days=USAGE_DAYS)
            )
            .values("version_id", "kind")
            .annotate(total=Sum("count"))
        ):
            totals.setdefault(row["version_id"], {})[row["kind"]] = row["total"]
        rows = [
            (v, [totals[v.pk].get(kind, 0) for kind, _label in UsageCount.Kind.choices])
            for v in live
            if v.pk in totals
        ]
        return sorted(rows, key=lambda row: (-sum(row[1]), row[0].procedure.title))

    @staticmethod
    def _translations_behind(live):
        """Live translations made from an older English text than the live English leaflet."""
        english = {v.procedure_id: v for v in live if not v.is_translation}
        return [v for v in live if v.is_translation and v.is_behind(english.get(v.procedure_id))]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        context = {"version": version}
        if version:
            live_english = (
                LeafletVersion.objects.live(DEFAULT_LANGUAGE).filter(procedure=version.procedure).first()
            )
            context.update(
                live_english=live_english,
                behind_english=version.is_behind(live_english),
                translation_languages=[
                    (code, name) for code, name in settings.LANGUAGES if code in translation_languages()
                ],
                can_edit=request.user.has_perm("procedures.change_leafletversion"),
                can_add=request.user.has_perm("procedures.add_leafletversion"),
                can_approve=request.user.has_perm("procedures.approve_leafletversion"),
                can_withdraw=request.user.has_perm("procedures.withdraw_leafletversion"),
                events=WorkflowEvent.objects.filter(
                    version__procedure=version.procedure, version__language=version.language
                ).select_related("actor", "version"),
                feedback=Feedback.objects.filter(version__procedure=version.procedure)
                .values("version__number")
                .annotate(yes=Count("pk", filter=Q(useful=True)), no=Count("pk", filter=Q(useful=False)))
                .order_by("-version__number"),
                comments=Feedback.objects.filter(version__procedure=version.procedure).exclude(comment="")[
                    :10
                ],
            )
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **context})

    def render_change_form(self, request, context, *args, **kwargs):
        form = context.get("adminform") and context["adminform"].form
        context["conflict"] = getattr(form, "conflict", None)
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "version", "from_status", "to_status", "actor", "comment"]
    list_filter = ["to_status"]
    search_fields = ["version__procedure__title", "comment"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["created_at", "version", "useful", "comment"]
    list_filter = ["useful", "version__procedure__category"]
    search_fields = ["version__procedure__title", "comment"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "phone"]
    search_fields = ["name", "site"]
    prepopulated_fields = {"slug": ["site", "name"]}
    filter_horizontal = ["procedures"]


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(admin.ModelAdmin):
    list_display = ["term", "definition"]
    search_fields = ["term", "definition", "also"]
    prepopulated_fields = {"slug": ["term"]}


@admin.register(ClinicPack)
class ClinicPackAdmin(admin.ModelAdmin):
    list_display = ["title", "department", "updated_at", "updated_by"]
    list_filter = ["department"]
    filter_horizontal = ["procedures"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["updated_by"]


class StaffAccountAdmin(UserAdmin):
    """Staff accounts, managed by superusers only.

    Anyone who can change accounts can give any account any right, their own included: an
    Administrator could make themselves a superuser, or make an approver account to approve
    their own draft. Administrators may look; superusers add, change and remove. The admin's
    log records who made each account, and the workflow's own-draft rule reads it
    (workflow._same_person).
    """

    list_display = [*UserAdmin.list_display, "account_made_by"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="account made by")
    def account_made_by(self, user):
        made = workflow.account_made_by(user).select_related("user").first()
        return made.user.get_username() if made else "—"


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffAccountAdmin)


# -- reaching the patient ------------------------------------------------------------------


class PrescribedLeafletInline(admin.TabularInline):
    model = PrescribedLeaflet
    fields = ["procedure", "version_given"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin):
    """Made on /print/prescription/; here staff find one by its code and revoke it."""

    list_display = [
        "code",
        "state_label",
        "created_at",
        "expires_on",
        "language",
        "department",
        "leaflet_count",
    ]
    list_filter = ["department", "language", "expires_on"]
    search_fields = ["code"]
    readonly_fields = [
        "code",
        "state_label",
        "language",
        "department",
        "created_at",
        "expires_on",
        "revoked_at",
    ]
    fields = readonly_fields
    inlines = [PrescribedLeafletInline]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("department")
        return queryset.annotate(leaflet_total=Count("leaflets"))

    def has_add_permission(self, request):
        return False

    @admin.display(description="state")
    def state_label(self, obj):
        return {"works": "Works", "expired": "Expired", "revoked": "Revoked"}[obj.state]

    @admin.display(description="leaflets")
    def leaflet_count(self, obj):
        return obj.leaflet_total

    @admin.action(description="Revoke: the link stops working at once", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = [prescription for prescription in queryset if not prescription.revoked_at]
        for prescription in revoked:
            prescription.revoke()
        self.message_user(
            request, f"Revoked {len(revoked)} link(s). Patients who open them are told to ask the department."
        )


@admin.register(FormatRequest)
class FormatRequestAdmin(admin.ModelAdmin):
    """Patients' requests for Easy Read, audio, Braille, BSL, an interpreter or a translation."""

    list_display = ["created_at", "leaflet", "department", "formats", "language", "has_contact", "done_at"]
    list_filter = [
        ("done_at", admin.EmptyFieldListFilter),
        "department",
        "easy_read",
        "audio",
        "braille",
        "bsl",
        "interpreter",
        "translation",
    ]
    search_fields = ["version__procedure__title", "language"]
    readonly_fields = ["version", "department", "formats", "language", "contact", "created_at", "done_at"]
    fields = readonly_fields
    actions = ["mark_done"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("version__procedure", "department")

    def has_add_permission(self, request):
        return False

    @admin.display(description="leaflet")
    def leaflet(self, obj):
        return f"{obj.version.procedure.title} v{obj.version.number} [{obj.version.language}]"

    @admin.display(description="asked for")
    def formats(self, obj):
        return ", ".join(obj.format_labels())

    @admin.display(description="contact given", boolean=True)
    def has_contact(self, obj):
        return bool(obj.contact)

    @admin.action(description="Mark as done (deletes the contact details)", permissions=["change"])
    def mark_done(self, request, queryset):
        open_requests = list(queryset.filter(done_at=None))
        for format_request in open_requests:
            format_request.mark_done()
        self.message_user(
            request, f"Marked {len(open_requests)} request(s) done; their contact details are deleted."
        )


@admin.register(UsageCount)
class UsageCountAdmin(admin.ModelAdmin):
    """The counts behind the dashboard, day by day. Written by procedures/usage.py only."""

    list_display = ["day", "version", "kind", "count"]
    list_filter = ["kind", "day", "version__language"]
    search_fields = ["version__procedure__title", "version__procedure__resource_number"]
    list_select_related = ["version__procedure"]
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
