"""Forms behind the clinic printouts and information prescriptions. None asks anything about
the patient: the printouts store nothing, and a prescription stores only the leaflets chosen."""

from itertools import groupby

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language_info, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import fasting
from .models import DEFAULT_LANGUAGE, PRESCRIPTION_MONTHS, Department, LeafletVersion, add_months


class AppointmentForm(forms.Form):
    """Deliberately no name or hospital-number field: staff write the name on the paper."""

    date = forms.DateField(
        label=_("Appointment date"),
        help_text=_("For example 27/03/2026."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        # The date picker sends ISO dates; browsers without one let people type UK dates.
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"],
    )
    time = forms.TimeField(
        label=_("Appointment time"),
        help_text=_("24-hour clock, for example 14:00."),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M", "%H.%M"],
    )
    arrive_minutes_before = forms.IntegerField(
        label=_("How many minutes before the appointment should the patient arrive?"),
        min_value=0,
        max_value=480,
        initial=30,
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), empty_label=None
    )

    def __init__(self, *args, procedure, **kwargs):
        super().__init__(*args, **kwargs)
        offering = procedure.departments.order_by("site", "name")
        # A leaflet not yet linked to a department can still be booked anywhere.
        self.fields["department"].queryset = offering if offering.exists() else Department.objects.all()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            try:
                cleaned["appointment"] = fasting.london_time(cleaned["date"], cleaned["time"])
            except fasting.TimeDoesNotExist:
                self.add_error(
                    "time",
                    gettext(
                        "The clocks go forward that night, so this time does not exist. "
                        "Check the appointment time."
                    ),
                )
        return cleaned


class LeafletChoiceForm(forms.Form):
    """Ticked live leaflets, grouped by body area, and an optional department: what a clinic
    pack and an information prescription both start from."""

    leaflets = forms.MultipleChoiceField(
        label=_("Leaflets"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one leaflet.")},
    )
    department = forms.ModelChoiceField(
        label=_("Department for the phone numbers (optional)"),
        queryset=Department.objects.all(),
        required=False,
        empty_label=_("Each leaflet's own departments"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only live English versions: a draft can never reach a pack or a prescription.
        self.versions = {
            v.procedure.slug: v
            for v in LeafletVersion.objects.live(DEFAULT_LANGUAGE)
            .select_related("procedure__category")
            .order_by("procedure__category__position", "procedure__category__name", "procedure__title")
        }
        self.fields["leaflets"].choices = [
            (
                slug,
                gettext("%(title)s (%(resource)s, version %(number)s)")
                % {"title": v.procedure.title, "resource": v.procedure.resource_number, "number": v.number},
            )
            for slug, v in self.versions.items()
        ]

    def leaflet_groups(self):
        """[(category, [checkbox, …]), …] so the template can put each category in a fieldset."""

        def category(box):
            return self.versions[box.data["value"]].procedure.category

        return [(name, list(group)) for name, group in groupby(self["leaflets"], key=category)]

    def chosen_versions(self):
        """The ticked leaflets in the order of the list, whatever order they were ticked in."""
        chosen = set(self.cleaned_data["leaflets"])
        return [v for slug, v in self.versions.items() if slug in chosen]


class PackForm(LeafletChoiceForm):
    title = forms.CharField(
        label=_("Pack title"),
        max_length=100,
        help_text=_("Printed on the cover, for example “Tuesday biopsy clinic”."),
    )
    field_order = ["title", "leaflets", "department"]

    def fill_from(self, saved):
        """Start the form from a saved pack; leaflets no longer published simply drop out."""
        self.initial.update(
            title=saved.title,
            department=saved.department_id,
            leaflets=[
                slug for slug in saved.procedures.values_list("slug", flat=True) if slug in self.versions
            ],
        )


class PrescriptionForm(LeafletChoiceForm):
    """An information prescription: leaflets, the patient's language and how long the link
    works. Deliberately nothing about the patient."""

    MONTHS = [1, 3, PRESCRIPTION_MONTHS, 12]

    language = forms.ChoiceField(
        label=_("The patient's language"),
        help_text=_(
            "The link opens the leaflets in this language where a translation is approved, "
            "and in English where not."
        ),
    )
    months = forms.TypedChoiceField(
        label=_("How long the link works"),
        coerce=int,
        initial=PRESCRIPTION_MONTHS,
    )
    field_order = ["leaflets", "department", "language", "months"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].empty_label = _("No department: each leaflet shows its own")
        self.fields["department"].label = _("Department (optional)")
        self.fields["language"].choices = [(code, _language_label(code)) for code, _ in settings.LANGUAGES]
        today = timezone.localdate()
        self.fields["months"].choices = [
            (
                months,
                ngettext("%(months)s month, until %(date)s", "%(months)s months, until %(date)s", months)
                % {"months": months, "date": date_format(add_months(today, months), "j F Y")},
            )
            for months in self.MONTHS
        ]


def _language_label(code):
    """ "Arabic (العربية)": the name staff read, and the one the patient may point to."""
    info = get_language_info(code.split("-")[0])  # "English", not "British English"
    return info["name"] if info["name_local"] == info["name"] else f"{info['name']} ({info['name_local']})"
