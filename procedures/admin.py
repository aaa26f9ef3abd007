"""The admin is where IR nurses edit leaflets and approvers publish them.

Fieldsets come from the section registry, so the form reads in the same order as the leaflet.
A version that patients have seen is shown read-only; its page offers "Start a new draft".
"""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from markdownx.widgets import AdminMarkdownxWidget

from .models import Category, Department, GlossaryTerm, LeafletVersion, Procedure
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
            return queryset.published().filter(
                next_review_due__gt=today + datetime.timedelta(days=90)
            )
        return queryset


WORKFLOW_ACTIONS = {
    # button in the URL: (LeafletVersion method, message on success)
    "submit": ("submit_for_review", "Sent for review."),
    "return": ("return_to_draft", "Returned to draft."),
    "publish": ("publish", "Published: patients now see this version."),
    "withdraw": ("withdraw", "Withdrawn: patients no longer see this leaflet."),
}


@admin.register(LeafletVersion)
class LeafletVersionAdmin(admin.ModelAdmin):
    list_display = [
        "procedure", "version_label", "status", "last_reviewed", "next_review_due",
        "reading_ease", "updated_at",
    ]
    list_filter = ["status", "procedure__category", ReviewDueFilter]
    search_fields = ["procedure__title", "procedure__resource_number", "procedure__lay_names"]
    list_select_related = ["procedure"]
    autocomplete_fields = ["procedure"]
    readonly_fields = ["status_summary", "readability"]

    fieldsets = [
        (None, {"fields": ["status_summary", "procedure", "is_sample_content"]}),
        *[
            (section.heading, {"fields": [section.field], "description": section.help_text})
            for section in SECTIONS
        ],
        ("Sources and review dates", {"fields": ["sources", "last_reviewed", "next_review_due"]}),
        ("Readability", {"fields": ["readability"]}),
    ]

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
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

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
        return format_html(
            "Reading ease {} (aim for 60 or more) · school grade {} (aim for 8 or less)",
            obj.reading_ease,
            obj.reading_grade,
        )

    # -- workflow buttons and draft preview -------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="procedures_leafletversion_preview",
            ),
            path(
                "<int:pk>/workflow/<str:action>/",
                self.admin_site.admin_view(require_POST(self.workflow_view)),
                name="procedures_leafletversion_workflow",
            ),
            path(
                "<int:pk>/new-draft/",
                self.admin_site.admin_view(require_POST(self.new_draft_view)),
                name="procedures_leafletversion_new_draft",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        version = get_object_or_404(LeafletVersion.objects.select_related("procedure"), pk=pk)
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return render(
            request,
            "procedures/leaflet.html",
            {
                "version": version,
                "procedure": version.procedure,
                "departments": list(version.procedure.departments.all()),
                "preview": True,
            },
        )

    def workflow_view(self, request, pk, action):
        version = get_object_or_404(LeafletVersion, pk=pk)
        if action not in WORKFLOW_ACTIONS or not self.has_change_permission(request):
            messages.error(request, "You are not allowed to do that.")
            return redirect(reverse("admin:procedures_leafletversion_change", args=[pk]))
        method, success = WORKFLOW_ACTIONS[action]
        try:
            if method == "publish":
                version.publish(approver=request.user)
            else:
                getattr(version, method)()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, success)
        return redirect(reverse("admin:procedures_leafletversion_change", args=[pk]))

    def new_draft_view(self, request, pk):
        version = get_object_or_404(LeafletVersion, pk=pk)
        if not self.has_add_permission(request):
            messages.error(request, "You are not allowed to start drafts.")
            return redirect(reverse("admin:procedures_leafletversion_change", args=[pk]))
        existing = LeafletVersion.objects.drafts().filter(
            procedure=version.procedure, language=version.language
        ).first()
        if existing:
            messages.warning(request, "A draft of this leaflet already exists: carry on with it.")
            return redirect(reverse("admin:procedures_leafletversion_change", args=[existing.pk]))
        draft = version.start_new_draft(author=request.user)
        messages.success(request, "New draft started from this version. Patients still see the published one.")
        return redirect(reverse("admin:procedures_leafletversion_change", args=[draft.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "version": self.get_object(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)


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
