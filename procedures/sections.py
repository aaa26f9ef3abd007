"""The leaflet section registry: the single source of truth for what a leaflet contains.

The model fields, admin fieldsets, public templates, content loader and exporter, and the
content check all iterate over SECTIONS, so adding or renaming a section happens here only.
Order is the order a patient reads them in (NHS / PIF practice).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class Section:
    field: str  # model field holding the Markdown; `<field>_html` holds the sanitised HTML
    # What patients see, and the `## Heading` line in content files. Always English here (the
    # structural marker); templates show it translated with {% translate section.heading %}.
    heading: str
    help_text: str  # what a nurse sees under the field in the admin
    required: bool = True

    @property
    def html_field(self):
        return f"{self.field}_html"

    @property
    def anchor(self):
        return self.field.replace("_", "-")


SECTIONS = (
    # First, so a patient who reads nothing else still gets the few facts that keep them safe.
    Section(
        "key_points",
        gettext_noop("Key points"),
        "3 to 5 short lines, one sentence each: what it is, the most important preparation rule, "
        "how long you stay, the main risk with its number, who to call.",
    ),
    Section(
        "what_it_is",
        gettext_noop("What is it?"),
        "Say in two or three short sentences what the procedure is, how the images guide it and "
        "who does it (for example 'an interventional radiologist, a doctor who…').",
    ),
    Section(
        "why_needed",
        gettext_noop("Why do I need it?"),
        "The usual reasons a patient is offered this procedure.",
    ),
    Section(
        "benefits",
        gettext_noop("What are the benefits?"),
        "What the patient can expect to gain.",
    ),
    Section(
        "risks",
        gettext_noop("What are the risks?"),
        "Each risk in words and numbers, for example: 'uncommon (about 1 in 200 people)'.",
    ),
    Section(
        "alternatives",
        gettext_noop("Are there other options?"),
        "Other tests or treatments, and what happens if the patient does nothing.",
    ),
    Section(
        "before",
        gettext_noop("Getting ready"),
        "Eating and drinking, blood thinners and other medicines, allergies, pregnancy, transport home.",
    ),
    Section(
        "during",
        gettext_noop("On the day"),
        "Arriving, consent, what the patient feels, how long it takes.",
    ),
    Section(
        "after",
        gettext_noop("Afterwards and going home"),
        "How long they stay, care of the wound or tube, driving, work, bathing.",
    ),
    Section(
        "urgent_help",
        gettext_noop("When to get help urgently"),
        "A list of concrete warning signs and who to call, in and out of hours.",
    ),
    Section(
        "results",
        gettext_noop("Results and follow-up"),
        "When and how the patient gets results, and any follow-up appointment.",
    ),
    Section(
        "contact",
        gettext_noop("Questions and contacts"),
        "Who to ask before and after. Department phone numbers are added automatically.",
    ),
)

SECTION_FIELDS = tuple(s.field for s in SECTIONS)
SECTIONS_BY_HEADING = {s.heading: s for s in SECTIONS}
