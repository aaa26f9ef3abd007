"""load_content: the library on disk becomes the library in the database, all or nothing."""

import re
import shutil
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


@pytest.fixture
def real_content(tmp_path):
    """All of content/, for a change that needs more than the small library has (two departments)."""
    target = tmp_path / "content"
    shutil.copytree(settings.CONTENT_DIR, target)
    return target


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
    live = sorted(LeafletVersion.objects.live("en").values_list("procedure__slug", flat=True))
    assert live == files
    assert Department.objects.count() >= 2


def test_load_content_loads_every_leaflet_as_published(content):
    call_command("load_content", content_dir=content)
    files = sorted(p.stem for p in (content / "leaflets").glob("*.md"))
    live = sorted(LeafletVersion.objects.live("en").values_list("procedure__slug", flat=True))
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
    number = parse_leaflet(path).meta["version"]
    text = path.read_text().replace(f"version = {number}", f"version = {number + 1}", 1)
    path.write_text(text.replace("## What is it?\n", "## What is it?\n\nNew opening line.\n", 1))
    report = load_library(content)
    assert report.published == [f"nephrostomy v{number + 1}"]
    versions = dict(
        LeafletVersion.objects.filter(procedure__slug="nephrostomy").values_list("number", "status")
    )
    assert versions == {number: "superseded", number + 1: "published"}


def test_changed_text_under_the_same_version_is_refused(content):
    load_library(content)
    path = content / "leaflets" / "nephrostomy.md"
    number = parse_leaflet(path).meta["version"]
    path.write_text(path.read_text().replace("## What is it?\n", "## What is it?\n\nSneaky change.\n", 1))
    before = snapshot()
    with pytest.raises(CommandError, match=rf"nephrostomy.md:\d+: version {number} is already published"):
        call_command("load_content", content_dir=content)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("mangle", "line", "message"),
    [
        (lambda t: t.replace('title = "', "title = ", 1), 2, "front matter"),
        (
            lambda t: t.replace("## What are the risks?", "## Risky bits", 1),
            None,
            "unknown section heading 'Risky bits'",
        ),
        (
            lambda t: re.sub(r'category = "[^"]+"', 'category = "nowhere"', t, count=1),
            4,
            "unknown category 'nowhere'",
        ),
        (lambda t: t.replace("+++", "", 1), 1, "must start with"),
        (
            lambda t: re.sub(r"^version = \d+$", 'version = "one"', t, count=1, flags=re.M),
            None,
            "'version' must be a whole number",
        ),
    ],
)
def test_a_malformed_file_names_file_and_line_and_loads_nothing(content, mangle, line, message):
    load_library(content)  # a library already in place must survive the failed load untouched
    before = snapshot()
    # Break the last file alphabetically, so every other file would have loaded first.
    path = content / "leaflets" / "vertebroplasty.md"
    original = path.read_text()
    path.write_text(mangle(original))
    nephrostomy = content / "leaflets" / "nephrostomy.md"
    nephrostomy.write_text(
        re.sub(
            r"^version = (\d+)$",
            lambda m: f"version = {int(m[1]) + 1}",
            nephrostomy.read_text(),
            count=1,
            flags=re.M,
        )
    )
    with pytest.raises(CommandError) as error:
        call_command("load_content", content_dir=content)
    text = str(error.value)
    assert "vertebroplasty.md:" in text and message in text
    if line:
        assert f"vertebroplasty.md:{line}:" in text
    else:
        wrong_line = next(
            number
            for number, line in enumerate(mangle(original).splitlines(), 1)
            if line not in original.splitlines()
        )
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
    (content / "leaflets" / "broken.md").write_bytes(b'+++\ntitle = "\xff\xfe"\n')
    with pytest.raises(CommandError, match=r"broken\.md: is not UTF-8"):
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


def _insert_after(path, marker, line, occurrence=1):
    """Put `line` after the `occurrence`-th line equal to `marker`; return its line number."""
    lines = path.read_text().split("\n")
    seen = 0
    for index, text in enumerate(lines):
        if text == marker:
            seen += 1
            if seen == occurrence:
                lines.insert(index + 1, line)
                path.write_text("\n".join(lines))
                return index + 2
    raise AssertionError(f"no {marker!r}")


def _replace_line(path, old, new):
    lines = path.read_text().split("\n")
    index = lines.index(old)
    lines[index] = new
    path.write_text("\n".join(lines))
    return index + 1


# Issue 15, defect 7: content files were trusted too much. Each breaks the library one way;
# load_content and check_content must both refuse it at the file and line to blame.
HOSTILE_FILES = {
    "a glossary slug carrying markup": (
        "glossary.toml",
        lambda c: _insert_after(
            c / "glossary.toml", "[[term]]", 'slug = "x\\"><img src=x onerror=alert(1)>"'
        ),
        "must be lower-case letters and digits",
    ),
    "a department slug that is not a slug": (
        "departments.toml",
        lambda c: _replace_line(c / "departments.toml", 'slug = "northgate-ir"', 'slug = "Northgate IR"'),
        "must be lower-case letters and digits",
    ),
    "two departments with one slug": (
        "departments.toml",
        lambda c: _replace_line(c / "departments.toml", 'slug = "kingsmead-ir"', 'slug = "northgate-ir"'),
        "department slug 'northgate-ir' is used twice",
    ),
    "two glossary terms with one slug": (
        "glossary.toml",
        lambda c: _insert_after(c / "glossary.toml", "[[term]]", 'slug = "ablation"', occurrence=2),
        "glossary term slug 'ablation' is used twice",
    ),
    "a leaflet file name that is not a slug": (
        "Vertebroplasty (new).md",
        lambda c: (
            (c / "leaflets" / "vertebroplasty.md").rename(c / "leaflets" / "Vertebroplasty (new).md") and 0
        ),
        "must be lower-case letters and digits joined by hyphens",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_FILES)
def test_an_untrustworthy_content_file_is_refused_at_its_line_by_load_and_check(real_content, case):
    from io import StringIO

    content = real_content
    file, mangle, message = HOSTILE_FILES[case]
    line = mangle(content)
    where = f"{file}:{line}:" if line else f"{file}:"
    with pytest.raises(CommandError) as refused:
        call_command("load_content", content_dir=content)
    assert where in str(refused.value) and message in str(refused.value)
    assert not Procedure.objects.exists() and not GlossaryTerm.objects.exists()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_content", content_dir=str(content), stdout=out)
    assert any(where in row and message in row for row in out.getvalue().splitlines())


def test_a_glossary_link_is_escaped_whatever_its_slug():
    from procedures.markdown import link_glossary

    html = link_glossary("<p>An abscess.</p>", [('x"><script>alert(1)</script>', "abscess", "")], set())
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html
