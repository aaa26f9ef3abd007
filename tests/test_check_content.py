"""check_content on the real library and on copies of it broken one way at a time."""

import datetime
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from procedures.content_files import parse_leaflet, write_leaflet
from procedures.readability import measure
from procedures.sections import SECTIONS


def run_check(content_dir):
    """(passed, everything the person running the command sees)."""
    out = StringIO()
    try:
        call_command("check_content", content_dir=str(content_dir), stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


@pytest.fixture
def content(tmp_path):
    copy = tmp_path / "content"
    shutil.copytree(settings.CONTENT_DIR, copy)
    return copy


def edit_leaflet(content, slug, meta=None, drop_meta=(), sections=None, drop_sections=()):
    path = content / "leaflets" / f"{slug}.md"
    leaflet = parse_leaflet(path)
    leaflet.meta.update(meta or {})
    for key in drop_meta:
        del leaflet.meta[key]
    leaflet.sections.update(sections or {})
    for field in drop_sections:
        del leaflet.sections[field]
    write_leaflet(path, leaflet.meta, leaflet.sections)
    return path


def line_of(path, text):
    return next(n for n, line in enumerate(Path(path).read_text().splitlines(), 1) if text in line)


# The house rules themselves are tested on small files in tests/test_house_style.py.
def test_the_real_library_passes_and_reads_plainly():
    passed, output = run_check(settings.CONTENT_DIR)
    assert passed, output
    assert "29 leaflets and 5 translations checked: 0 errors" in output
    # Measured here as well as in the command, so a check that silently skipped the figures
    # could not pass the library.
    for path in sorted(Path(settings.CONTENT_DIR, "leaflets").glob("*.md")):
        leaflet = parse_leaflet(path)
        whole = measure("\n".join(leaflet.sections.get(s.field, "") for s in SECTIONS))
        assert whole.reading_ease >= 60, path.name
        assert whole.grade <= 8, path.name
        for section in SECTIONS:
            assert measure(leaflet.sections[section.field]).reading_ease >= 50, (path.name, section.heading)


def test_a_missing_section_fails_naming_the_file(content):
    edit_leaflet(content, "nephrostomy", drop_sections=["alternatives"])
    passed, output = run_check(content)
    assert not passed
    assert "nephrostomy.md: section 'Are there other options?' is missing or empty" in output


def test_a_missing_required_leaflet_fails_naming_it(content):
    (content / "leaflets" / "cryoablation.md").unlink()
    passed, output = run_check(content)
    assert not passed
    assert "required leaflet 'cryoablation' is missing" in output
    assert "department 'northgate-ir' offers 'cryoablation', which has no leaflet" in output
    assert "28 leaflets and 5 translations checked" in output


def test_a_thin_section_fails(content):
    path = edit_leaflet(content, "nephrostomy", sections={"contact": "Ring the ward on the number below."})
    passed, output = run_check(content)
    assert not passed
    line = line_of(path, "## Questions and contacts")
    assert f"nephrostomy.md:{line}: section 'Questions and contacts' is thin: 7 words" in output


def test_a_long_sentence_is_quoted_with_its_line(content):
    sentence = (
        "We will ask you to lie on your side on the bed so that the doctor can see your back "
        "and put the thin tube in the right place today."
    )
    assert len(sentence.split()) == 30
    leaflet = parse_leaflet(content / "leaflets" / "nephrostomy.md")
    path = edit_leaflet(
        content, "nephrostomy", sections={"during": leaflet.sections["during"] + "\n\n" + sentence}
    )
    passed, output = run_check(content)
    assert not passed
    assert (
        f"nephrostomy.md:{line_of(path, sentence)}: long sentence (30 words, over 25): "
        f'"We will ask you to lie on your…"'
    ) in output


@pytest.mark.parametrize(
    ("dates", "key"),
    [
        (
            {"last_reviewed": datetime.date(2019, 1, 1), "next_review_due": datetime.date(2022, 1, 1)},
            "next_review_due = 2022-01-01",
        ),
        # No review date given: the default interval of 36 months from the last review applies.
        ({"last_reviewed": datetime.date(2020, 1, 1), "next_review_due": None}, "last_reviewed = 2020-01-01"),
    ],
    ids=["next_review_due", "last_reviewed + 36 months"],
)
def test_a_passed_review_date_fails(content, dates, key):
    path = edit_leaflet(content, "nephrostomy", meta=dates)
    passed, output = run_check(content)
    assert not passed
    due = dates["next_review_due"] or datetime.date(2023, 1, 1)
    assert f"nephrostomy.md:{line_of(path, key)}: review date passed: the review was due on {due}" in output


def test_missing_sources_fail(content):
    edit_leaflet(content, "nephrostomy", drop_meta=["sources"])
    passed, output = run_check(content)
    assert not passed
    assert "nephrostomy.md:1: front matter is missing 'sources'" in output


def test_a_leaflet_without_the_sample_content_notice_fails(content):
    edit_leaflet(content, "nephrostomy", drop_meta=["sample_content"])
    passed, output = run_check(content)
    assert not passed
    assert "nephrostomy.md:1: 'sample_content = true' is missing" in output


def test_a_picture_without_alt_text_fails(content):
    leaflet = parse_leaflet(content / "leaflets" / "nephrostomy.md")
    picture = "![](/media/uploads/kidney.png)"
    path = edit_leaflet(
        content, "nephrostomy", sections={"what_it_is": leaflet.sections["what_it_is"] + "\n\n" + picture}
    )
    passed, output = run_check(content)
    assert not passed
    assert (
        f"nephrostomy.md:{line_of(path, picture)}: picture in 'What is it?': "
        "Every picture needs a short description"
    ) in output


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("[kidney transplant](/procedures/kidney-transplant/)", "no leaflet 'kidney-transplant'"),
        ("[a stent](/glossary/#stents)", "no glossary term 'stents'"),
        ("[the risks](#dangers)", "no section '#dangers'"),
    ],
)
def test_a_broken_internal_link_fails(content, link, reason):
    leaflet = parse_leaflet(content / "leaflets" / "nephrostomy.md")
    path = edit_leaflet(
        content, "nephrostomy", sections={"benefits": leaflet.sections["benefits"] + f"\n\nSee {link}."}
    )
    passed, output = run_check(content)
    assert not passed
    target = link.split("(")[1].rstrip(")")
    assert f"nephrostomy.md:{line_of(path, link)}: broken link to {target}: {reason}" in output


def test_working_internal_links_pass(content):
    # The other side of the broken-link test: a check that flagged every link would pass that one.
    links = "See [stents](/procedures/biliary-stent/), [a stent](/glossary/#stent) and [the risks](#risks)."
    leaflet = parse_leaflet(content / "leaflets" / "nephrostomy.md")
    edit_leaflet(content, "nephrostomy", sections={"benefits": leaflet.sections["benefits"] + "\n\n" + links})
    _passed, output = run_check(content)
    assert "broken link" not in output
    assert "nephrostomy.md" in output  # the leaflet was checked


def test_an_unknown_category_and_a_short_glossary_fail(content):
    path = edit_leaflet(content, "nephrostomy", meta={"category": "kidneys"})
    (content / "glossary.toml").write_text('[[term]]\nterm = "Stent"\ndefinition = "A thin tube."\n')
    passed, output = run_check(content)
    assert not passed
    assert f"nephrostomy.md:{line_of(path, 'category =')}: unknown category 'kidneys'" in output
    assert "glossary.toml: the glossary has only 1 terms; it needs at least 40" in output


def error_count(output):
    return int(re.search(r"checked: (\d+) errors", output).group(1))


def test_every_problem_is_reported_not_just_the_first(content):
    baseline = run_check(content)[1]
    # A leaflet that no longer parses is reported once, instead of for whatever else it had.
    lumbar = sum(
        1
        for line in baseline.splitlines()
        if "leaflets/lumbar-puncture.md:" in line and "warning:" not in line
    )
    before = error_count(baseline) - lumbar
    edit_leaflet(content, "nephrostomy", drop_meta=["sample_content"])
    edit_leaflet(content, "lumbar-puncture", drop_sections=["risks"])
    passed, output = run_check(content)
    assert not passed
    assert "nephrostomy.md:1: 'sample_content = true' is missing" in output
    assert "lumbar-puncture.md: section 'What are the risks?' is missing or empty" in output
    assert "29 leaflets and 5 translations checked" in output
    # Two more errors than the unbroken copy (the house-style rules may be finding others).
    assert error_count(output) == before + 2


def test_a_hard_section_fails_on_reading_ease(content):
    jargon = (
        "Percutaneous nephrostomy necessitates comprehensive preprocedural haematological "
        "evaluation. Anticoagulation medication discontinuation requires individualised "
        "multidisciplinary consideration. Interventional radiological catheterisation utilises "
        "fluoroscopic visualisation alongside ultrasonographic localisation. "
    ) * 3
    path = edit_leaflet(content, "nephrostomy", sections={"before": jargon})
    passed, output = run_check(content)
    assert not passed
    assert (
        f"nephrostomy.md:{line_of(path, '## Getting ready')}: section 'Getting ready' is hard to read"
        in output
    )
