"""Issue 16: the house style's front matter keys, the key-points section and the rules that
check_content holds every leaflet to (content/house_style.toml, content/HOUSE_STYLE.md)."""

import datetime
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from procedures import workflow
from procedures.content_files import PUNCTURES, SEDATIONS, ContentError, parse_leaflet, write_leaflet
from procedures.library import export_library, import_library, load_library
from procedures.models import Procedure, Puncture, Sedation
from procedures.sections import SECTIONS
from tests.helpers import empty_the_database


@pytest.fixture
def content(tmp_path):
    copy = tmp_path / "content"
    shutil.copytree(settings.CONTENT_DIR, copy)
    return copy


def set_meta(path, **meta):
    leaflet = parse_leaflet(path)
    leaflet.meta.update(meta)
    write_leaflet(path, leaflet.meta, leaflet.sections)


def line_of(path, text):
    return next(n for n, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line)


# -- front matter: sedation and puncture -------------------------------------------------------------


def test_the_file_values_are_the_models_choices():
    assert tuple(Sedation.values) == SEDATIONS
    assert tuple(Puncture.values) == PUNCTURES


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sedation", "twilight", '\'sedation\' must be one of "local", "sedation", "general"'),
        ("puncture", "groin", '\'puncture\' must be one of "none", "artery", "vein"'),
        ("sedation", 2, '\'sedation\' must be one of "local", "sedation", "general"'),
    ],
)
def test_a_bad_sedation_or_puncture_names_file_and_line(content, key, value, expected):
    path = content / "leaflets" / "nephrostomy.md"
    set_meta(path, **{key: value})
    with pytest.raises(ContentError) as caught:
        parse_leaflet(path)
    assert str(caught.value).startswith(f"{path}:{line_of(path, f'{key} =')}: {expected}")


@pytest.mark.django_db
def test_sedation_and_puncture_load_onto_the_procedure_and_survive_export_and_import(content, tmp_path):
    set_meta(content / "leaflets" / "nephrostomy.md", sedation="sedation", puncture="none")
    set_meta(content / "leaflets" / "angioplasty-and-stenting.md", sedation="local", puncture="artery")
    bone = parse_leaflet(content / "leaflets" / "bone-biopsy.md")
    for key in ("sedation", "puncture"):
        bone.meta.pop(key, None)
    write_leaflet(bone.path, bone.meta, bone.sections)
    load_library(content)
    assert Procedure.objects.values_list("sedation", "puncture").get(slug="nephrostomy") == (
        "sedation",
        "none",
    )
    assert (
        Procedure.objects.get(slug="angioplasty-and-stenting").get_puncture_display()
        == "Artery (groin or arm)"
    )

    backup = tmp_path / "backup"
    export_library(backup)
    live = parse_leaflet(backup / "leaflets" / "angioplasty-and-stenting.md").meta
    assert (live["sedation"], live["puncture"]) == ("local", "artery")
    # A leaflet without the keys writes none, rather than an empty value the parser would refuse.
    assert "sedation" not in parse_leaflet(backup / "leaflets" / "bone-biopsy.md").meta

    empty_the_database()
    import_library(backup)
    assert Procedure.objects.values_list("sedation", "puncture").get(slug="angioplasty-and-stenting") == (
        "local",
        "artery",
    )
    assert Procedure.objects.get(slug="bone-biopsy").sedation == ""


# -- the key-points section ----------------------------------------------------------------------------


def test_key_points_is_the_first_section_and_required():
    assert SECTIONS[0].field == "key_points"
    assert SECTIONS[0].heading == "Key points"
    assert SECTIONS[0].required


def test_a_leaflet_without_key_points_is_refused_by_the_loader(content):
    path = content / "leaflets" / "nephrostomy.md"
    leaflet = parse_leaflet(path)
    del leaflet.sections["key_points"]
    write_leaflet(path, leaflet.meta, leaflet.sections)
    with pytest.raises(ContentError, match="section 'Key points' is missing or empty"):
        parse_leaflet(path)


@pytest.mark.django_db
def test_key_points_come_first_on_the_page_print_view_and_in_the_contents(library, client):
    for url in ("/procedures/nephrostomy/", "/procedures/nephrostomy/print/"):
        page = client.get(url).content.decode()
        key_points = page.index('id="key-points"')
        assert key_points < page.index('id="what-it-is"'), url
        assert "drain urine into a bag" in page[key_points : page.index('id="what-it-is"')]
    contents = client.get("/procedures/nephrostomy/").content.decode()
    assert contents.index('href="#key-points"') < contents.index('href="#what-it-is"')


def test_the_admin_shows_key_points_first(admin_client, library):
    from procedures.models import LeafletVersion

    version = LeafletVersion.objects.live("en").get(procedure__slug="nephrostomy")
    page = admin_client.get(f"/admin/procedures/leafletversion/{version.pk}/change/").content.decode()
    assert 0 < page.index("Key points") < page.index("What is it?")


def test_load_content_command_still_loads_the_library(db):
    call_command("load_content", verbosity=0)
    assert Procedure.objects.count() == 29


# -- check_content's house-style rules -------------------------------------------------------------------
# A small leaflet that keeps every rule (sedation, artery puncture: every rule applies), put in a
# copy of the library in place of one leaflet. Each bad variant changes one thing; the test sees
# the one error it should cause, at the line to fix, and the good file passes with none.

GOOD_META = {
    "title": "Leg artery stretch",
    "resource_number": "IR-001",
    "category": "blood-vessels",
    "summary": "A small balloon stretches a narrow artery in your leg.",
    "version": 1,
    "status": "published",
    "last_reviewed": datetime.date(2026, 12, 3),
    "next_review_due": datetime.date(2029, 12, 3),
    "sedation": "sedation",
    "puncture": "artery",
    "food_hours": 6,
    "clear_fluids_hours": 2,
    "sample_content": True,
    "sources": [
        "Example Society: Standards of practice for leg artery stretching, 2021. "
        "https://example.org/standards"
    ],
}
GOOD_SECTIONS = {
    "key_points": "\n".join(
        [
            "- A doctor stretches a narrow artery in your leg with a small balloon.",
            "- Do not eat for 6 hours before, and drink clear fluids until 2 hours before.",
            "- Most people go home the same day.",
            "- Bleeding from the groin is uncommon (about 1 in 200 people).",
            "- If you are worried, call us on the number below, day or night.",
        ]
    ),
    "what_it_is": "An interventional radiologist, a doctor who uses scans to guide treatment, does it. "
    "A thin tube goes into the artery at the top of your leg. A small balloon on the tube "
    "opens the narrow part. You stay awake. We numb the skin first, so it does not hurt much. "
    "It takes about an hour.",
    "why_needed": "The artery in your leg is narrow. Not enough blood gets to your foot. Your leg hurts "
    "when you walk, or a sore on your foot does not heal. Stretching the artery lets more "
    "blood through. Your team thinks this will help you. They will talk it through with you.",
    "benefits": "Most people find they can walk further without pain. A sore on the foot may heal. "
    "The tube goes in through a small hole, so you do not need a big cut. You can often go "
    "home the same day. It may help you avoid a larger operation later on.",
    "risks": "\n".join(
        [
            "Most people have no problems. These are the risks we know about.",
            "",
            "- **A bruise in the groin:** very common (about 1 in 5 people). It fades in 2 weeks.",
            "- **Bleeding from the groin:** uncommon (about 1 in 200 people). We press on it to stop it.",
            "- **The artery closes again later:** common (about 1 in 10 people). Studies vary.",
            "- **A clot blocks the artery:** rare (fewer than 1 in 1,000 people).",
            "- **Dying as a result:** very rare (fewer than 1 in 10,000 people).",
        ]
    ),
    "alternatives": "You could walk more and take tablets to help the blood flow. A surgeon could do a "
    "bypass operation. This is a bigger operation with a longer stay. Doing nothing is "
    "also a choice. Your leg may keep hurting, and a sore may not heal. We will talk "
    "through each choice with you.",
    "before": "\n".join(
        [
            "Do not eat for 6 hours before. You can drink clear fluids until 2 hours before. Clear fluids "
            "are water, squash and black tea or coffee.",
            "",
            "Keep taking your usual medicines. Never stop a blood thinner unless the team tells you. An "
            "adult must take you home. They must stay with you for 24 hours.",
        ]
    ),
    "during": "A nurse checks your details and puts a small tube in your arm. The doctor explains what "
    "will happen and asks you to sign a form. You lie on your back. We may give you a "
    "medicine to help you relax. We numb the skin at the top of your leg. It stings for a "
    "moment.",
    "after": "\n".join(
        [
            "You lie flat for 2 to 4 hours. A nurse checks your leg and your pulse.",
            "",
            "- You can shower after 24 hours.",
            "- Do not have a bath or swim for 5 days.",
            "- Do not drive for 48 hours.",
            "- Do not lift anything heavy for 5 days.",
            "- Do not drink alcohol or sign important papers for 24 hours.",
        ]
    ),
    "urgent_help": "\n".join(
        [
            "Call us on the number below, day or night, if:",
            "",
            "- the bruise in your groin grows or gets more painful",
            "- your leg feels cold, numb or very painful",
            "- you have a high temperature or feel hot and shivery",
            "",
            "Call 999 if your groin bleeds and does not stop when you press on it for 10 minutes.",
        ]
    ),
    "results": "The doctor tells you how it went before you go home. We send a letter to your family "
    "doctor. You will have a check-up in clinic in about 6 weeks. We may do a scan to see "
    "how well the blood flows. Tell us if your leg starts to hurt again when you walk.",
    "contact": "Write your questions down before you come, so you do not forget them. Bring this "
    "leaflet with you. You can call the department if you have a question before or after. "
    "The numbers are below. We are happy to help you and your family.",
}


@pytest.fixture
def lone_content(tmp_path):
    """The library's tables and one leaflet: what check_content needs to judge that leaflet,
    without reading the other 28 each time."""
    folder = tmp_path / "lone"
    (folder / "leaflets").mkdir(parents=True)
    for table in Path(settings.CONTENT_DIR).glob("*.toml"):
        shutil.copy(table, folder / table.name)
    shutil.copy(Path(settings.CONTENT_DIR) / "leaflets" / "angioplasty-and-stenting.md", folder / "leaflets")
    return folder


@pytest.fixture
def check(lone_content):
    """check(meta changes, section changes) -> the problems check_content finds in one leaflet,
    as 'line: message' (line 0 when no one line is to blame)."""
    from procedures.content_check import check_library

    content = lone_content
    path = content / "leaflets" / "angioplasty-and-stenting.md"

    def run(meta=None, drop_meta=(), **sections):
        leaflet_meta = {**GOOD_META, **(meta or {})}
        for key in drop_meta:
            del leaflet_meta[key]
        write_leaflet(path, leaflet_meta, {**GOOD_SECTIONS, **sections})
        report = check_library(content, today=datetime.date(2026, 12, 3))
        return [f"{p.line}: {p.message}" for p in report.problems if p.path == path]

    run.path = path
    return run


def test_the_good_leaflet_passes_every_rule(check):
    assert check() == []


def test_departments_without_the_24_hour_route_fail(content):
    from procedures.content_check import check_library

    report = check_library(content, today=datetime.date(2026, 12, 3))
    departments = [str(p) for p in report.problems if p.path.name == "departments.toml"]
    # The branch's departments.toml carries them; a copy without them must fail.
    assert departments == []
    toml = content / "departments.toml"
    toml.write_text(toml.read_text().replace('switchboard = "01632 960 100"\n', "", 1))
    report = check_library(content, today=datetime.date(2026, 12, 3))
    assert any("department 'northgate-ir' has no switchboard" in p.message for p in report.problems)


def replace_in(field, old, new):
    assert old in GOOD_SECTIONS[field], (field, old)
    return {field: GOOD_SECTIONS[field].replace(old, new)}


BAD = {
    # 1. key points
    "key points missing a line": (
        {},
        {"key_points": "\n".join(GOOD_SECTIONS["key_points"].splitlines()[:2])},
        "## Key points",
        "'Key points' has 2 bullet lines; it needs 3 to 5",
    ),
    "key point of two sentences": (
        {},
        replace_in("key_points", "same day.", "same day. Some stay the night."),
        "Some stay the night",
        "a key point is one sentence",
    ),
    "key points not bullets": (
        {},
        replace_in("key_points", "- Most people go home", "Most people go home"),
        "Most people go home",
        "'Key points' holds bullet lines only",
    ),
    # 2. risk numbers
    "a wide band": (
        {},
        replace_in(
            "risks", "uncommon (about 1 in 200 people)", "uncommon (between 1 in 100 and 1 in 1,000 people)"
        ),
        "between 1 in 100",
        "wide band in 'What are the risks?': \"between 1 in 100 and 1 in 1,000\"",
    ),
    "a band with 'to'": (
        {},
        replace_in("risks", "(about 1 in 10 people)", "(1 in 20 to 1 in 5 people)"),
        "1 in 20 to 1 in 5",
        "wide band in 'What are the risks?': \"1 in 20 to 1 in 5\"",
    ),
    "a number without 'about'": (
        {},
        replace_in("risks", "(about 1 in 200 people)", "(1 in 200 people)"),
        "(1 in 200 people)",
        '"1 in 200" needs "about", "fewer than" or "more than" before it',
    ),
    "a word that does not fit": (
        {},
        replace_in("risks", "uncommon (about 1 in 200", "rare (about 1 in 200"),
        "rare (about 1 in 200",
        '"rare" does not fit "about 1 in 200": that is uncommon',
    ),
    "no word with the number": (
        {},
        replace_in(
            "risks", "**A clot blocks the artery:** rare (fewer", "**A clot blocks the artery:** (fewer"
        ),
        "A clot blocks",
        '"fewer than 1 in 1,000" needs its frequency word on the same line: rare or very rare',
    ),
    "a key point's risk word wrong": (
        {},
        replace_in("key_points", "uncommon (about 1 in 200", "common (about 1 in 2,000"),
        "about 1 in 2,000",
        '"common" does not fit "about 1 in 2,000": that is rare',
    ),
    # 3. death
    "death called common": (
        {},
        replace_in(
            "risks",
            "**Dying as a result:** very rare (fewer than 1 in 10,000 people)",
            "**Dying as a result:** common",
        ),
        "Dying as a result",
        'a sentence about death says "common": death is never common',
    ),
    # 4. doing nothing
    "no 'doing nothing'": (
        {},
        replace_in("alternatives", "Doing nothing is also a choice.", "Some people wait."),
        "## Are there other options?",
        "'Are there other options?' must say what doing nothing",
    ),
    # 5. urgent section
    "NHS 111 alone out of hours": (
        {},
        replace_in(
            "urgent_help",
            "Call us on the number below, day or night, if:",
            "Call us in working hours or NHS 111 out of hours if:",
        ),
        "NHS 111 out of hours",
        "NHS 111 is not the only route out of hours",
    ),
    "no 999": (
        {},
        replace_in("urgent_help", "Call 999 if", "Call us if"),
        "## When to get help urgently",
        "'When to get help urgently' must say when to call 999",
    ),
    # 6. who does it
    "nobody does it": (
        {},
        replace_in(
            "what_it_is",
            "An interventional radiologist, a doctor who uses scans to guide treatment, does it.",
            "Scans guide it.",
        ),
        "## What is it?",
        "'What is it?' must say who does the procedure",
    ),
    # 9. fasting
    "fasting hours in the text": (
        {},
        replace_in("before", "Do not eat for 6 hours before.", "Do not eat for 4 hours before."),
        "Do not eat for 4 hours",
        'says 4 hours for food; the house rule for sedation = "sedation" is 6 hours',
    ),
    "clear fluids hours in the text": (
        {},
        replace_in("before", "until 2 hours before", "until 3 hours before"),
        "until 3 hours",
        'says 3 hours for clear fluids; the house rule for sedation = "sedation" is 2 hours',
    ),
    "fasting hours in front matter": (
        {"food_hours": 4},
        {},
        "food_hours = 4",
        "'food_hours' must be 6 for sedation = \"sedation\"",
    ),
    "fasting under local anaesthetic": (
        {"sedation": "local", "food_hours": None, "clear_fluids_hours": None},
        {},
        "Do not eat for 6 hours",
        'with sedation = "local" you eat and drink as normal',
    ),
    "fasting hours set under local anaesthetic": (
        {"sedation": "local"},
        {},
        "food_hours = 6",
        "'food_hours' is set, but a leaflet with sedation = \"local\"",
    ),
    # 10. escort and driving after sedation
    "no escort": (
        {},
        replace_in("before", " An adult must take you home. They must stay with you for 24 hours.", ""),
        None,
        "does not say that an adult takes you home and stays with you for 24 hours",
    ),
    "escort for 12 hours": (
        {},
        replace_in("before", "stay with you for 24 hours", "stay with you for 12 hours"),
        "stay with you for 12 hours",
        "says 12 hours for someone to stay with you; the house rule is 24 hours",
    ),
    # 11. artery puncture
    "bath too soon": (
        {},
        replace_in("after", "bath or swim for 5 days", "bath or swim for 2 days"),
        "bath or swim for 2 days",
        "says 2 days for bath; the house rule after an artery puncture is at least 5 days",
    ),
    "driving too soon": (
        {},
        replace_in("after", "Do not drive for 48 hours.", "Do not drive for 24 hours."),
        "Do not drive for 24 hours",
        "says 24 hours for driving; the house rule after an artery puncture is at least 2 days",
    ),
    "lifting too soon": (
        {},
        replace_in("after", "anything heavy for 5 days", "anything heavy for 3 days"),
        "heavy for 3 days",
        "says 3 days for lifting; the house rule after an artery puncture is at least 5 days",
    ),
    "no word on bathing": (
        {},
        replace_in("after", "\n- Do not have a bath or swim for 5 days.", ""),
        None,
        "does not say when you can have a bath or swim",
    ),
    # 7. sources
    "a source without year or link": (
        {"sources": ["Example Society: Standards of practice for leg artery stretching"]},
        {},
        "Example Society",
        "source needs a year and an https:// link",
    ),
    "a source with an http link": (
        {"sources": ["Example Society: Standards, 2021. http://example.org/standards"]},
        {},
        "Example Society",
        "source needs an https:// link",
    ),
    # front matter
    "no sedation key": ({"sedation": None}, {}, None, "front matter is missing 'sedation'"),
    "no puncture key": ({"puncture": None}, {}, None, "front matter is missing 'puncture'"),
}


@pytest.mark.parametrize(("meta", "sections", "line_text", "message"), BAD.values(), ids=BAD.keys())
def test_each_house_rule_fails_a_leaflet_that_breaks_it(check, meta, sections, line_text, message):
    found = check(
        meta={k: v for k, v in meta.items() if v is not None},
        drop_meta=[k for k, v in meta.items() if v is None],
        **sections,
    )
    line = line_of(check.path, line_text) if line_text is not None else int("front matter" in message)
    assert any(problem.startswith(f"{line}: ") and message in problem for problem in found), found


def test_a_leaflet_no_department_offers_fails(check, lone_content):
    toml = lone_content / "departments.toml"
    toml.write_text(toml.read_text().replace('  "angioplasty-and-stenting",\n', ""))
    assert (
        "0: no department in departments.toml offers this leaflet, so it would show no phone number"
        in check()
    )


def test_a_translation_needs_key_points_and_dated_sources(content):
    from procedures.content_check import check_library

    path = content / "translations" / "ar" / "nephrostomy.md"
    translation = parse_leaflet(path, required=())
    translation.meta["sources"] = ["Society: Standards"]
    translation.sections["key_points"] = translation.sections["key_points"].splitlines()[0]
    write_leaflet(path, translation.meta, translation.sections)
    problems = [
        f"{p.line}: {p.message}"
        for p in check_library(content, today=datetime.date(2026, 12, 3)).problems
        if p.path == path
    ]
    assert f"{line_of(path, '## Key points')}: 'Key points' has 1 bullet lines; it needs 3 to 5" in problems
    assert any("source needs a year and an https:// link" in p for p in problems)


@pytest.mark.parametrize(
    ("qualifier", "n", "words"),
    [
        ("about", 5, ["very common"]),
        ("about", 10, ["very common", "common"]),
        ("about", 50, ["common"]),
        ("about", 100, ["common", "uncommon"]),
        ("about", 2000, ["rare"]),
        ("about", 20000, ["very rare"]),
        ("fewer than", 1000, ["rare", "very rare"]),
        ("fewer than", 10000, ["very rare"]),
        ("more than", 10, ["very common"]),
        ("more than", 100, ["very common", "common"]),
    ],
)
def test_the_frequency_scale_is_the_writing_guides(qualifier, n, words):
    from procedures.house_style import fitting_words, read_house_style

    style = read_house_style(Path(settings.CONTENT_DIR) / "house_style.toml")
    assert fitting_words(style, qualifier, n) == words


# -- the 24-hour route and the PIF TICK blocks, from the department data ----------------------------


@pytest.fixture
def drain_leaflet(make_procedure, make_draft, department):
    """A live leaflet whose own urgent text says nothing about out of hours, like a tube leaflet
    written before issue 16; the department has a switchboard."""
    department.switchboard = "01632 960 777"
    department.out_of_hours_route = "Ask for the on-call interventional radiologist."
    department.pals = "PALS: 01632 960 778, pals@example.org"
    department.pharmacy_helpline = "Pharmacy helpline: 01632 960 779, weekdays 9am to 5pm"
    department.save()
    procedure = make_procedure("kidney-drain", title="Kidney drain")
    department.procedures.add(procedure)
    version = make_draft(procedure, urgent_help="- your drain falls out: cover the hole and call us at once")
    workflow.publish(version)
    return version


def urgent_section(page):
    start = page.index('id="urgent-help"')
    return page[start : page.index("</section>", start)]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/procedures/kidney-drain/", "/procedures/kidney-drain/print/"])
def test_the_urgent_section_gives_the_24_hour_route_then_111_and_999(client, drain_leaflet, url):
    section = urgent_section(client.get(url).content.decode())
    assert "your drain falls out" in section
    assert 'href="tel:01632960555">01632 960 555</a>' in section  # the department, in hours
    assert 'href="tel:01632960777">01632 960 777</a>' in section  # the switchboard, day or night
    assert "Ask for the on-call interventional radiologist." in section
    # 111 only as the fallback, after the switchboard; 999 for an emergency.
    assert section.index("01632 960 777") < section.index("NHS 111") < section.index("999")
    assert "If you cannot get through" in section


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/procedures/kidney-drain/", "/procedures/kidney-drain/print/"])
def test_every_leaflet_shows_formats_interpreters_pals_pharmacy_and_how_it_was_written(
    client, drain_leaflet, url
):
    page = client.get(url).content.decode()
    for text in (
        "Other formats and free interpreters",
        "Interpreters are free",
        "PALS: 01632 960 778",
        "Pharmacy helpline: 01632 960 779",
        "How this leaflet was written and tested",
        f"reading ease is {drain_leaflet.reading_ease:.0f} out of 100",
    ):
        assert text in page, (url, text)


@pytest.mark.django_db
def test_the_print_contact_box_no_longer_sends_people_to_111_alone(client, drain_leaflet):
    page = client.get("/procedures/kidney-drain/print/").content.decode()
    assert "Out of hours call NHS 111." not in page
    contacts = page[page.index('id="contacts-heading"') :]
    assert "01632 960 777" in contacts and "(hospital switchboard)" in contacts


@pytest.mark.django_db
def test_the_pdf_carries_the_24_hour_route_and_the_pif_blocks(client, drain_leaflet):
    import io
    import os
    import re

    from pypdf import PdfReader

    from procedures import pdf

    if not pdf.AVAILABLE and os.environ.get("CI", "").lower() != "true":
        pytest.skip("WeasyPrint needs Pango")
    response = client.get("/procedures/kidney-drain/leaflet.pdf")
    text = re.sub(
        r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    )
    for wanted in (
        "Who to call, day or night",
        "01632 960 777",
        "Ask for the on-call interventional radiologist",
        "If you cannot get through, call NHS 111",
        "Other formats and free interpreters",
        "PALS: 01632 960 778",
        "How this leaflet was written and tested",
    ):
        assert wanted in text, wanted


@pytest.mark.django_db
def test_the_home_page_card_gives_the_switchboard_route_before_111(client):
    page = client.get("/").content.decode()
    card = page[page.index("Worried after a procedure?") :]
    assert card.index("on-call interventional radiologist") < card.index("NHS 111")


@pytest.mark.django_db
def test_the_department_page_gives_switchboard_pals_and_pharmacy(client, drain_leaflet, department):
    page = client.get(department.get_absolute_url()).content.decode()
    for text in (
        'href="tel:01632960777"',
        "Ask for the on-call interventional radiologist.",
        "PALS: 01632 960 778",
        "Pharmacy helpline: 01632 960 779",
    ):
        assert text in page, text
