"""make_scale_data: a large synthetic library for benchmarks, clearly marked, never mixed into
a real library by accident."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from procedures.models import Department, GlossaryTerm, LeafletVersion, Procedure

pytestmark = pytest.mark.django_db


def make(*args):
    out = io.StringIO()
    call_command("make_scale_data", *args, stdout=out)
    return out.getvalue()


def test_it_builds_marked_leaflets_patients_can_open(client):
    report = make("--leaflets", "25", "--departments", "3", "--glossary", "7", "--versions", "2")
    assert "Made 25 synthetic leaflets (50 versions), 3 departments and 7 glossary terms" in report

    numbers = sorted(Procedure.objects.values_list("resource_number", flat=True))
    assert numbers[0] == "SYN-00001" and numbers[-1] == "SYN-00025"
    assert all("synthetic" in title for title in Procedure.objects.values_list("title", flat=True))
    assert LeafletVersion.objects.live("en").count() == 25
    assert LeafletVersion.objects.filter(status="superseded").count() == 25
    assert Department.objects.count() == 3 and GlossaryTerm.objects.count() == 7

    page = client.get(reverse("procedures:leaflet", args=["synthetic-00001"]))
    assert page.status_code == 200
    assert "synthetic leaflet 00001" in page.content.decode()
    assert "Sample content" in page.content.decode()
    assert client.get(reverse("procedures:leaflet_version", args=["synthetic-00001", 1])).status_code == 200


def test_cached_lists_show_the_new_leaflets_at_once(client):
    make("--leaflets", "2", "--departments", "1", "--glossary", "1")
    assert client.get(reverse("procedures:list")).content.decode().count('class="card"') == 2
    from procedures import synthetic  # the command refuses a second run; the builder adds more

    synthetic.build(3)
    assert client.get(reverse("procedures:list")).content.decode().count('class="card"') == 5


def test_it_refuses_a_database_with_real_leaflets(small_library):
    with pytest.raises(CommandError, match="real leaflets"):
        make("--leaflets", "5")
    assert not Procedure.objects.filter(resource_number__startswith="SYN-").exists()
    make("--leaflets", "5", "--alongside-real-content")
    assert Procedure.objects.filter(resource_number__startswith="SYN-").count() == 5


def test_it_refuses_to_run_twice_on_one_database():
    make("--leaflets", "3")
    with pytest.raises(CommandError, match="already has synthetic leaflets"):
        make("--leaflets", "3")


def test_dev_run_never_loads_it():
    from pathlib import Path

    dev = (Path(__file__).resolve().parent.parent / "dev").read_text()
    assert "make_scale_data" not in dev
