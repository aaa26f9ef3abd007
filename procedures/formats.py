"""'Other formats': asking for a leaflet in Easy Read, audio, Braille, BSL, with an interpreter
or in another language (the Accessible Information Standard, DCB1605).

The leaflet page only links here, so it stays the same for everyone and cacheable. This form
page is cacheable too: like the feedback form it carries no CSRF token (no cookie, no session
to protect, and a patient with cookies turned off can still send it) and is throttled instead.
A request keeps only what the patient chose to give: the formats, a language and, if they
want it sent, how to reach them; marking it done deletes that contact.
"""

import logging

from django import forms
from django.core.mail import send_mail
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from . import throttle
from .models import Department, FormatRequest
from .views import _current_version, _departments_for

logger = logging.getLogger(__name__)

PER_CLIENT_PER_HOUR = 5
SITE_WIDE_PER_HOUR = 200
CONTACT_MAX = 300

# What the patient sees for each FormatRequest field, in their language.
FORMAT_CHOICES = [
    ("easy_read", _("Easy Read (short sentences with pictures)")),
    ("audio", _("Audio (listen to the leaflet)")),
    ("braille", _("Braille")),
    ("bsl", _("A British Sign Language (BSL) video")),
    ("interpreter", _("An interpreter at my appointment")),
    ("translation", _("The leaflet in another language")),
]


class FormatRequestForm(forms.Form):
    formats = forms.MultipleChoiceField(
        label=_("What would help you?"),
        choices=FORMAT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one format.")},
    )
    language = forms.CharField(
        label=_("Which language? (optional)"),
        max_length=100,
        required=False,
        help_text=_("For an interpreter or a translation, for example Arabic, Polish or Tigrinya."),
    )
    department = forms.ModelChoiceField(
        label=_("Which hospital are you going to?"),
        queryset=None,
        required=False,
        empty_label=_("I do not know yet"),
    )
    contact = forms.CharField(
        label=_("How can we send it to you? (optional)"),
        max_length=CONTACT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "A phone number, email or postal address, only if you want it sent. If you leave "
            "this empty, ask for it at your appointment or call the department."
        ),
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = departments
        if len(departments) < 2:
            del self.fields["department"]  # nothing to choose: the only department, or none
        else:
            self.fields["department"].queryset = Department.objects.filter(pk__in=[d.pk for d in departments])

    def clean_contact(self):
        # Control characters would only hide what was written from the staff who read it.
        text = self.cleaned_data["contact"]
        return "".join(ch for ch in text if ch.isprintable() or ch == "\n").strip()

    def clean(self):
        cleaned = super().clean()
        if "translation" in cleaned.get("formats", []) and not cleaned.get("language", "").strip():
            self.add_error("language", gettext("Tell us which language you would like the leaflet in."))
        return cleaned

    def department_chosen(self):
        if "department" in self.fields:
            return self.cleaned_data.get("department")
        return self.departments[0] if self.departments else None


@csrf_exempt
def request_format(request, slug):
    version = _current_version(slug)  # the version on the page: a translation's own
    procedure = version.procedure
    departments = _departments_for(procedure)
    form = FormatRequestForm(request.POST if request.method == "POST" else None, departments=departments)
    context = {"version": version, "procedure": procedure, "form": form, "departments": departments}
    if not form.is_bound or not form.is_valid():
        return render(
            request, "procedures/format_request.html", context, status=400 if form.is_bound else 200
        )
    if throttle.too_many(request, "format-request", PER_CLIENT_PER_HOUR, SITE_WIDE_PER_HOUR):
        context["message"] = gettext(
            "We have had a lot of requests from you recently, so this one was not "
            "saved. Please call the department instead."
        )
        return render(request, "procedures/format_request.html", context, status=429)
    chosen = set(form.cleaned_data["formats"])
    saved = FormatRequest.objects.create(
        version=version,
        department=form.department_chosen(),
        language=form.cleaned_data["language"].strip(),
        contact=form.cleaned_data["contact"],
        **{field: field in chosen for field, _label in FormatRequest.FORMATS},
    )
    _tell_the_department(request, saved)
    return render(request, "procedures/format_request_thanks.html", {**context, "saved": saved})


def _tell_the_department(request, saved):
    """An email to the department's address saying a request is waiting in the admin. Without
    the patient's contact details: those stay in the admin, behind a sign-in."""
    department = saved.department
    if not department or not department.email:
        return
    link = request.build_absolute_uri(reverse("admin:procedures_formatrequest_change", args=[saved.pk]))
    procedure = saved.version.procedure
    language = f" — language: {saved.language}" if saved.language else ""
    # In English, for staff, whatever the patient's page was in.
    body = "\n".join(
        [
            f"A patient asked for “{procedure.title}” ({procedure.resource_number}) in: "
            f"{', '.join(saved.format_labels())}{language}.",
            "They left contact details."
            if saved.contact
            else "They left no contact details: they may ask at their appointment.",
            "",
            f"Open the request (staff sign-in): {link}",
        ]
    )
    try:
        send_mail(f"Format request: {procedure.title}", body, None, [department.email])
    except Exception:  # the request is saved and listed in the admin whatever happens to the email
        logger.warning("Could not email %s about format request %s", department.slug, saved.pk, exc_info=True)
