"""load_content: the library on disk becomes the library in the database, all or nothing."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from procedures.content_files import parse_leaflet
from procedures.library import export_library, import_library, load_library
from procedures.models import Category, Department, GlossaryTerm, LeafletVersion, Procedure

from tests.helpers import empty_the_database

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(small_content):
    """Real leaflet files to change and load: the small library (tests/helpers.py)."""
    return small_content


def snapshot():
    """Everything the loader writes, to prove a failed load changed nothing."""
    return (
        list(Category.objects.values_list("slug", "name")),
        list(Procedure.objects.values_list("slug", "title", "resource_number")),
        list(LeafletVersion.objects.values_list("procedure__slug", "number", "status", "risks")),
        list(Department.objects.values_list("slug", "phone")),
        GlossaryTerm.objects.count(),
    )


def test_the_real_library_loads_every_leaflet_as_published(library):
    files = sorted(p.stem for p in Path(settings.CONTENT_DIR, "leaflets").glob("*.md"))
    live = sorted(LeafletVersion.objects.current().values_list("procedure__slug", flat=True))
    assert live == files
    assert Department.objects.count() >= 2


def test_load_content_loads_every_leaflet_as_published(content):
    call_command("load_content", content_dir=content)
    files = sorted(p.stem for p in (content / "leaflets").glob("*.md"))
    live = sorted(LeafletVersion.objects.current().values_list("procedure__slug", flat=True))
    assert live == files
    assert Department.objects.exists()
    nephrostomy = Procedure.objects.get(slug="nephrostomy")
    assert "kidney tube" in nephrostomy.lay_name_list
    assert nephrostomy.departments.exists()


def test_loading_twice_changes_nothing(content):
    load_library(content)
    before = snapshot()
    report = load_library(content)
    assert snapshot() == before
    assert report.published == []


def test_round_trip_keeps_every_leaflet_exactly(library, tmp_path):
    exported = tmp_path / "exported"
    export_library(exported)
    for original in sorted(Path(settings.CONTENT_DIR, "leaflets").glob("*.md")):
        again = parse_leaflet(exported / "leaflets" / original.name)
        first = parse_leaflet(original)
        assert again.sections == first.sections, original.name
        for key, value in first.meta.items():
            assert again.meta[key] == value, (original.name, key)


def test_an_export_loaded_into_an_empty_database_gives_the_same_pages(content, tmp_path, client):
    load_library(content)
    pages = {p.slug: client.get(p.get_absolute_url()).content for p in Procedure.objects.all()}
    exported = tmp_path / "exported"
    export_library(exported)
    empty_the_database()
    assert not Procedure.objects.exists()
    # The restore, not load_library: loading publishes anew, so the publication dates that
    # pages show would be today's. tests/test_backup.py restores a library with a history.
    import_library(exported)
    again = {p.slug: client.get(p.get_absolute_url()).content for p in Procedure.objects.all()}
    assert again.keys() == pages.keys()
    for slug, page in pages.items():
        assert again[slug] == page, slug


def test_a_new_version_number_publishes_and_supersedes(content):
    load_library(content)
    path = content / "leaflets" / "nephrostomy.md"
    text = path.read_text().replace("version = 1", "version = 2", 1)
    path.write_text(text.replace("## What is it?\n", "## What is it?\n\nNew opening line.\n", 1))
    report = load_library(content)
    assert report.published == ["nephrostomy v2"]
    versions = dict(
        LeafletVersion.objects.filter(procedure__slug="nephrostomy").values_list("number", "status")
    )
    assert versions == {1: "superseded", 2: "published"}


def test_changed_text_under_the_same_version_is_refused(content):
    load_library(content)
    path = content / "leaflets" / "nephrostomy.md"
    path.write_text(path.read_text().replace("## What is it?\n", "## What is it?\n\nSneaky change.\n", 1))
    before = snapshot()
    with pytest.raises(CommandError, match=r"nephrostomy.md:\d+: version 1 is already published"):
        call_command("load_content", content_dir=content)
    assert snapshot() == before


@pytest.mark.parametrize(
    "mangle, line, message",
    [
        (lambda t: t.replace('title = "', 'title = ', 1), 2, "front matter"),
        (lambda t: t.replace("## What are the risks?", "## Risky bits", 1), None, "unknown section heading 'Risky bits'"),
        (lambda t: re.sub(r'category = "[^"]+"', 'category = "nowhere"', t, count=1), 4, "unknown category 'nowhere'"),
        (lambda t: t.replace("+++", "", 1), 1, "must start with"),
        (lambda t: t.replace("version = 1", "version = \"one\"", 1), None, "'version' must be a whole number"),
    ],
)
def test_a_malformed_file_names_file_and_line_and_loads_nothing(content, mangle, line, message):
    load_library(content)  # a library already in place must survive the failed load untouched
    before = snapshot()
    # Break the last file alphabetically, so every other file would have loaded first.
    path = content / "leaflets" / "vertebroplasty.md"
    original = path.read_text()
    path.write_text(mangle(original))
    (content / "leaflets" / "nephrostomy.md").write_text(
        (content / "leaflets" / "nephrostomy.md").read_text().replace("version = 1", "version = 2", 1)
    )
    with pytest.raises(CommandError) as error:
        call_command("load_content", content_dir=content)
    text = str(error.value)
    assert "vertebroplasty.md:" in text and message in text
    if line:
        assert f"vertebroplasty.md:{line}:" in text
    else:
        wrong_line = next(i for i, l in enumerate(mangle(original).splitlines(), 1) if l not in original.splitlines())
        assert f"vertebroplasty.md:{wrong_line}:" in text
    assert "Nothing was loaded" in text
    assert snapshot() == before


def test_a_department_offering_an_unknown_procedure_is_refused(content):
    path = content / "departments.toml"
    path.write_text(path.read_text().replace('"nephrostomy"', '"nephrostomy-typo"', 1))
    with pytest.raises(CommandError, match=r"departments.toml:\d+: .*unknown procedure 'nephrostomy-typo'"):
        call_command("load_content", content_dir=content)
    assert not Procedure.objects.exists()


def test_a_file_that_is_not_utf8_is_reported(content):
    (content / "leaflets" / "broken.md").write_bytes(b"+++\ntitle = \"\xff\xfe\"\n")
    with pytest.raises(CommandError, match="broken.md: is not UTF-8"):
        call_command("load_content", content_dir=content)


def test_unusual_line_breaks_survive_a_round_trip(content, tmp_path):
    """U+2028, U+2029 and U+0085 are not line ends in a content file (str.splitlines thinks so)."""
    from procedures.content_files import write_leaflet

    leaflet = parse_leaflet(content / "leaflets" / "nephrostomy.md")
    odd = "one\u2028two\u2029three\x85four"
    meta = {**leaflet.meta, "title": f"Nephrostomy {odd}", "sources": [odd]}
    sections = {**leaflet.sections, "what_it_is": f"A tube. {odd}"}
    path = tmp_path / "nephrostomy.md"
    write_leaflet(path, meta, sections)
    again = parse_leaflet(path)
    assert again.meta == meta and again.sections == sections
