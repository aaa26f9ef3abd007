"""export_content writes the whole library; import_content rebuilds it in an empty database
with the same version numbers, statuses and dates, so every address printed on paper works."""

import io

import pytest
from django.core.management import CommandError, call_command

from procedures import workflow
from procedures.content_files import parse_leaflet
from procedures.library import export_library, load_library
from procedures.models import Department, GlossaryTerm, LeafletVersion, Procedure, WorkflowEvent
from procedures.sections import SECTIONS
from tests.helpers import SMALL_TRANSLATIONS, empty_the_database

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(small_library, django_user_model):
    """Real leaflets, then a year of document control on top of them."""
    nurse = django_user_model.objects.create_user(
        "nurse", password="x" * 16, is_staff=True, is_superuser=True, first_name="Nia"
    )
    consultant = django_user_model.objects.create_user(
        "consultant", password="x" * 16, is_staff=True, is_superuser=True
    )
    # nephrostomy: v1 superseded by an edited v2, and a new draft waiting for approval.
    v1 = LeafletVersion.objects.live("en").get(procedure__slug="nephrostomy")
    draft = workflow.start_new_draft(v1, by=nurse, what_it_is=v1.what_it_is + "\n\nA new sentence in v2.")
    workflow.submit_for_review(draft, by=nurse)
    workflow.publish(draft, by=consultant, approved_hash=draft.content_hash())
    waiting = workflow.start_new_draft(draft, by=nurse, risks="Risks still being rewritten.")
    workflow.submit_for_review(waiting, by=nurse)
    # tumour-embolisation: withdrawn, so it has no live version at all.
    withdrawn = LeafletVersion.objects.live("en").get(procedure__slug="tumour-embolisation")
    workflow.withdraw(withdrawn, by=consultant)
    # vertebroplasty: reviewed with no change, which makes a new version with the same text.
    workflow.record_review(
        LeafletVersion.objects.live("en").get(procedure__slug="vertebroplasty"), by=consultant
    )
    # A new leaflet that has never been published: one incomplete draft, no sources.
    newcomer = Procedure.objects.create(
        slug="hand-drain",
        title="Hand drain",
        resource_number="IR-999",
        summary="A drain.",
        category=Procedure.objects.get(slug="nephrostomy").category,
        owner=nurse,
    )
    LeafletVersion.objects.create(procedure=newcomer, what_it_is="Half written.", author=nurse)
    Department.objects.first().procedures.add(newcomer)
    # The version numbers the files gave, so the tests follow the library as it is rewritten.
    return {
        "nurse": nurse,
        "consultant": consultant,
        "old": v1.number,
        "new": draft.number,
        "withdrawn": withdrawn.number,
    }


def everything_patients_and_auditors_see(client):
    """Every page of every version, the version record and each leaflet's history listing."""
    seen = {}
    for procedure in Procedure.objects.order_by("slug"):
        slug = procedure.slug
        # Arabic too: translations and the English version each one was made from.
        for url in (f"/procedures/{slug}/", f"/procedures/{slug}/print/", f"/ar/procedures/{slug}/"):
            response = client.get(url)
            seen[url] = (response.status_code, response.content)
        for number in procedure.versions.exclude(number=None).values_list("number", flat=True):
            for url in (f"/procedures/{slug}/v/{number}/", f"/check/{procedure.resource_number}/{number}/"):
                response = client.get(url)
                seen[url] = (response.status_code, response.content)
        out = io.StringIO()
        call_command("leaflet_history", slug, stdout=out)
        seen[f"leaflet_history {slug}"] = out.getvalue()
    seen["versions"] = sorted(
        [
            (
                v.procedure.slug,
                v.language,
                v.number,
                v.status,
                v.published_at,
                v.retired_at,
                v.created_at,
                v.last_reviewed,
                v.next_review_due,
                v.is_sample_content,
                v.sources,
                v.title,
                v.summary,
                v.lay_names,
                v.translation_of.number if v.translation_of else None,
                v.author.get_username() if v.author else None,
                v.approver.get_username() if v.approver else None,
                *[getattr(v, s.field) for s in SECTIONS],
                *[getattr(v, s.html_field) for s in SECTIONS],
            )
            for v in LeafletVersion.objects.select_related("procedure", "author", "approver")
        ],
        key=repr,
    )
    seen["procedures"] = sorted(
        Procedure.objects.values_list(
            "slug",
            "title",
            "resource_number",
            "category__slug",
            "summary",
            "lay_names",
            "food_hours",
            "clear_fluids_hours",
            "review_interval_months",
            "owner__username",
        )
    )
    seen["departments"] = sorted(
        (
            d.slug,
            d.name,
            d.phone,
            d.urgent_advice_html,
            tuple(d.procedures.order_by("slug").values_list("slug", flat=True)),
        )
        for d in Department.objects.all()
    )
    seen["glossary"] = list(GlossaryTerm.objects.values_list("term", "slug", "definition", "also"))
    return seen


def test_export_flush_import_gives_identical_pages_for_every_version(history, tmp_path, client):
    before = everything_patients_and_auditors_see(client)
    # The history really is there: otherwise this test would prove little.
    statuses = dict(
        LeafletVersion.objects.filter(procedure__slug="nephrostomy").values_list("number", "status")
    )
    old, new = history["old"], history["new"]
    assert statuses == {old: "superseded", new: "published", None: "in_review"}
    assert before[f"/procedures/nephrostomy/v/{old}/"][0] == 200
    assert before["/procedures/tumour-embolisation/"][0] == 404
    assert before[f"/procedures/tumour-embolisation/v/{history['withdrawn']}/"][0] == 410
    assert b"A new sentence in v2." in before["/procedures/nephrostomy/"][1]

    backup = tmp_path / "backup"
    report = export_library(backup)
    assert (report.live, report.drafts) == (Procedure.objects.count() - 2, 2)
    assert report.translations == LeafletVersion.objects.live("ar").count() == len(SMALL_TRANSLATIONS["ar"])
    empty_the_database()
    assert not LeafletVersion.objects.exists()

    out = io.StringIO()
    call_command("import_content", content_dir=backup, stdout=out)
    assert "made an inactive account for 'consultant'" in out.getvalue()

    after = everything_patients_and_auditors_see(client)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key


def test_the_backup_layout_is_the_documented_one(history, tmp_path):
    backup = tmp_path / "backup"
    export_library(backup)
    # The live version in the content/ format, so load_content reads a backup like content/.
    live = parse_leaflet(backup / "leaflets" / "nephrostomy.md")
    assert (live.meta["version"], live.meta["status"]) == (history["new"], "published")
    assert not (backup / "leaflets" / "tumour-embolisation.md").exists()  # withdrawn: nothing live
    old = parse_leaflet(backup / "versions" / "nephrostomy" / f"v{history['old']}.md", complete=False)
    assert old.meta["status"] == "superseded"
    assert old.meta["published_at"] < old.meta["retired_at"]
    new = parse_leaflet(backup / "versions" / "nephrostomy" / f"v{history['new']}.md", complete=False)
    assert (new.meta["approver"], new.meta["author"]) == ("consultant", "nurse")
    waiting = parse_leaflet(backup / "versions" / "nephrostomy" / "draft.md", complete=False)
    assert (
        waiting.meta["status"] == "in_review" and waiting.sections["risks"] == "Risks still being rewritten."
    )
    withdrawn = parse_leaflet(
        backup / "versions" / "tumour-embolisation" / f"v{history['withdrawn']}.md", complete=False
    )
    assert withdrawn.meta["status"] == "withdrawn" and withdrawn.meta["retired_at"]
    assert (
        parse_leaflet(backup / "versions" / "hand-drain" / "draft.md", complete=False).meta["status"]
        == "draft"
    )


def test_load_content_still_reads_a_backup(history, tmp_path):
    """A department offering a withdrawn or unpublished leaflet must not stop load_content."""
    backup = tmp_path / "backup"
    export_library(backup)
    empty_the_database()
    load_library(backup)
    assert (
        LeafletVersion.objects.live("en").filter(procedure__slug="nephrostomy").get().number == history["new"]
    )


def test_import_refuses_a_database_that_is_not_empty(history, tmp_path):
    backup = tmp_path / "backup"
    export_library(backup)
    before = LeafletVersion.objects.count()
    with pytest.raises(CommandError, match="restores a backup into an empty database only"):
        call_command("import_content", content_dir=backup)
    assert LeafletVersion.objects.count() == before


def test_import_refuses_a_content_library_that_is_not_a_backup(db, settings):
    with pytest.raises(CommandError, match="not a backup made by export_content"):
        call_command("import_content", content_dir=settings.CONTENT_DIR)


def test_a_broken_backup_file_restores_nothing(history, tmp_path):
    backup = tmp_path / "backup"
    export_library(backup)
    live = LeafletVersion.objects.live("en").get(procedure__slug="vertebroplasty").number
    empty_the_database()
    path = backup / "versions" / "vertebroplasty" / f"v{live}.md"
    path.write_text(path.read_text().replace("published_at = ", 'published_at = "yesterday"\n#', 1))
    with pytest.raises(
        CommandError, match=rf"vertebroplasty/{path.name}:\d+: a published version needs 'published_at'"
    ):
        call_command("import_content", content_dir=backup)
    assert not Procedure.objects.exists() and not WorkflowEvent.objects.exists()


def test_a_restored_library_is_found_by_the_words_of_its_leaflets(
    make_procedure, make_draft, tmp_path, client
):
    # Issue 15, defect 4: after import_content, nothing was found by leaflet text.
    workflow.publish(
        make_draft(
            make_procedure("hand-drain", title="Hand drain"),
            what_it_is="A kingfisher-blue tube drains the wound.",
        )
    )
    assert "Hand drain" in client.get("/search/?q=kingfisher").content.decode()
    backup = tmp_path / "backup"
    export_library(backup)
    empty_the_database()
    call_command("import_content", content_dir=backup, stdout=io.StringIO())
    assert "Hand drain" in client.get("/search/?q=kingfisher").content.decode()
