"""Issue 16: the house style's front matter keys, the key-points section and the rules that
check_content holds every leaflet to (content/house_style.toml, content/HOUSE_STYLE.md)."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from procedures.content_files import ContentError, PUNCTURES, SEDATIONS, parse_leaflet, write_leaflet
from procedures.library import export_library, import_library, load_library
from procedures.models import Procedure, Puncture, Sedation
from procedures.sections import SECTIONS

from tests.conftest import empty_the_database


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
    assert SEDATIONS == tuple(Sedation.values)
    assert PUNCTURES == tuple(Puncture.values)


@pytest.mark.parametrize("key, value, expected", [
    ("sedation", "twilight", '\'sedation\' must be one of "local", "sedation", "general"'),
    ("puncture", "groin", '\'puncture\' must be one of "none", "artery", "vein"'),
    ("sedation", 2, '\'sedation\' must be one of "local", "sedation", "general"'),
])
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
    load_library(content)
    assert Procedure.objects.values_list("sedation", "puncture").get(slug="nephrostomy") == ("sedation", "none")
    assert Procedure.objects.get(slug="angioplasty-and-stenting").get_puncture_display() == "Artery (groin or arm)"

    backup = tmp_path / "backup"
    export_library(backup)
    live = parse_leaflet(backup / "leaflets" / "angioplasty-and-stenting.md").meta
    assert (live["sedation"], live["puncture"]) == ("local", "artery")
    # A leaflet without the keys writes none, rather than an empty value the parser would refuse.
    assert "sedation" not in parse_leaflet(backup / "leaflets" / "bone-biopsy.md").meta

    empty_the_database()
    import_library(backup)
    assert Procedure.objects.values_list("sedation", "puncture").get(slug="angioplasty-and-stenting") == ("local", "artery")
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
        assert "drain urine into a bag" in page[key_points:page.index('id="what-it-is"')]
    contents = client.get("/procedures/nephrostomy/").content.decode()
    assert contents.index('href="#key-points"') < contents.index('href="#what-it-is"')


def test_the_admin_shows_key_points_first(admin_client, library):
    from procedures.models import LeafletVersion

    version = LeafletVersion.objects.current().get(procedure__slug="nephrostomy")
    page = admin_client.get(f"/admin/procedures/leafletversion/{version.pk}/change/").content.decode()
    assert 0 < page.index("Key points") < page.index("What is it?")


def test_load_content_command_still_loads_the_library(db):
    call_command("load_content", verbosity=0)
    assert Procedure.objects.count() == 29
