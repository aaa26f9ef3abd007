"""The admin as IR nurses use it: edit drafts, preview, publish, never rewrite history."""

import pytest
from django.test import Client
from django.urls import reverse

from procedures import workflow
from procedures.models import LeafletVersion
from procedures.sections import SECTIONS
from tests.helpers import admin_form_data

pytestmark = pytest.mark.django_db


def change_url(version):
    return reverse("admin:procedures_leafletversion_change", args=[version.pk])


def test_the_edit_form_follows_the_section_registry(staff_client, make_procedure, make_draft):
    draft = make_draft(make_procedure())
    body = staff_client.get(change_url(draft)).content.decode()
    positions = [body.index(f'class="fieldset-heading">{s.heading}</h2>') for s in SECTIONS]
    assert positions == sorted(positions)
    assert "markdownx-editor" in body  # live preview widget
    assert SECTIONS[3].help_text.split(":")[0] in body


def test_a_nurse_edits_a_draft_and_the_html_is_rendered_on_save(staff_client, make_procedure, make_draft):
    draft = make_draft(make_procedure())
    response = staff_client.post(
        change_url(draft), admin_form_data(draft, risks="- **Bleeding**: uncommon (about 1 in 200 people)")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert "<strong>Bleeding</strong>" in draft.risks_html


def test_a_missing_alt_text_is_explained_in_the_form(staff_client, make_procedure, make_draft):
    draft = make_draft(make_procedure())
    response = staff_client.post(
        change_url(draft), admin_form_data(draft, during="![](/media/leaflet-images/a.png)")
    )
    assert response.status_code == 200
    assert "Every picture needs a short description" in response.content.decode()


def test_a_published_version_is_read_only_in_the_admin(staff_client, published):
    body = staff_client.get(change_url(published)).content.decode()
    assert 'name="risks"' not in body
    assert "Start a new draft from this version" in body
    response = staff_client.post(change_url(published), admin_form_data(published, risks="Rewritten"))
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.risks != "Rewritten"


def test_starting_a_new_draft_from_a_published_version(staff_client, published):
    response = staff_client.post(reverse("admin:procedures_leafletversion_new_draft", args=[published.pk]))
    draft = LeafletVersion.objects.drafts().get()
    assert response["Location"] == change_url(draft)
    assert draft.risks == published.risks
    # a second click does not make a second draft
    staff_client.post(reverse("admin:procedures_leafletversion_new_draft", args=[published.pk]))
    assert LeafletVersion.objects.drafts().count() == 1


def test_send_for_review_then_publish_from_the_buttons(staff_client, staff, published):
    draft = workflow.start_new_draft(published)

    def button(action):
        return reverse("admin:procedures_leafletversion_workflow", args=[draft.pk, action])

    staff_client.post(button("submit"))
    draft.refresh_from_db()
    assert draft.status == "in_review"
    staff_client.post(button("publish"), {"content_hash": draft.content_hash()})
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, draft.number, draft.approver) == ("published", 2, staff)
    assert published.status == "superseded"


def test_sending_an_incomplete_draft_for_review_shows_why(staff_client, make_procedure, make_draft):
    draft = make_draft(make_procedure(), benefits="")
    response = staff_client.post(
        reverse("admin:procedures_leafletversion_workflow", args=[draft.pk, "submit"])
    )
    assert response.status_code == 400
    assert "Empty: What are the benefits?" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_staff_can_preview_a_draft_that_patients_cannot_see(staff_client, make_procedure, make_draft):
    draft = make_draft(make_procedure("new-leaflet"), what_it_is="Preview words")
    preview = reverse("admin:procedures_leafletversion_preview", args=[draft.pk])
    body = staff_client.get(preview).content.decode()
    assert "Draft preview" in body and "Preview words" in body
    anonymous = Client()
    assert anonymous.get(preview).status_code == 302  # to the login page
    assert anonymous.get("/procedures/new-leaflet/").status_code == 404


def test_list_filters_for_category_status_and_review_due(staff_client, published):
    url = reverse("admin:procedures_leafletversion_changelist")
    for query in [
        "?status=published",
        "?procedure__category__id__exact=1",
        "?review=overdue",
        "?review=90",
        "?review=later",
        "?q=kidney",
    ]:
        assert staff_client.get(url + query).status_code == 200, query
    assert "Kidney biopsy" in staff_client.get(url + "?review=later").content.decode()
    assert "Kidney biopsy" not in staff_client.get(url + "?review=overdue").content.decode()
