"""'Is this page useful?': works without JavaScript, keeps no personal data, resists floods."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from procedures import workflow
from procedures.feedback import PER_CLIENT_PER_HOUR
from procedures.models import Feedback, RequestCount

pytestmark = pytest.mark.django_db


def feedback_url(slug="kidney-biopsy"):
    return reverse("procedures:feedback", args=[slug])


def test_every_live_leaflet_asks_with_a_plain_form(client, published):
    body = client.get(published.procedure.get_absolute_url()).content.decode()
    assert "Is this page useful?" in body
    assert f'<form method="post" action="{feedback_url()}"' in body
    assert 'name="useful" value="yes"' in body and 'name="useful" value="no"' in body


def test_yes_is_stored_against_the_published_version(client, published):
    response = client.post(feedback_url(), {"useful": "yes"})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert list(Feedback.objects.values_list("version", "useful")) == [(published.pk, True)]


def test_no_leads_to_an_optional_comment(client, published):
    response = client.post(feedback_url(), {"useful": "no"}, follow=True)
    assert "What could we do better?" in response.content.decode()
    comment_url = response.redirect_chain[-1][0]
    client.post(comment_url, {"comment": "I still do not know when to stop eating."})
    feedback = Feedback.objects.get()
    assert feedback.useful is False
    assert feedback.comment == "I still do not know when to stop eating."
    client.post(comment_url, {"comment": "Overwritten by someone with the link"})
    feedback.refresh_from_db()
    assert feedback.comment == "I still do not know when to stop eating."


def test_a_forged_comment_link_is_refused(client, published):
    response = client.post(
        reverse("procedures:feedback_comment", args=["kidney-biopsy", "1:forged"]), {"comment": "x"}
    )
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_a_long_comment_is_refused_with_a_message_and_kept_in_the_box(client, published):
    response = client.post(feedback_url(), {"useful": "no"}, follow=True)
    comment_url = response.redirect_chain[-1][0]
    response = client.post(comment_url, {"comment": "word " * 200})
    assert "Please keep your comment under 500 characters" in response.content.decode()
    assert "word word" in response.content.decode()
    assert Feedback.objects.get().comment == ""


def test_no_personal_data_is_stored():
    fields = {f.name for f in Feedback._meta.get_fields()}
    assert fields == {"id", "version", "useful", "comment", "created_at"}


def test_a_flood_is_throttled(client, published):
    for _ in range(PER_CLIENT_PER_HOUR):
        assert client.post(feedback_url(), {"useful": "yes"}).status_code == 200
    response = client.post(feedback_url(), {"useful": "yes"})
    assert response.status_code == 429
    assert "was not saved" in response.content.decode()
    assert Feedback.objects.count() == PER_CLIENT_PER_HOUR
    other_patient = client.post(feedback_url(), {"useful": "yes"}, REMOTE_ADDR="192.0.2.44")
    assert other_patient.status_code == 200


def test_the_limit_holds_across_worker_processes(client, published):
    # Issue 15, defect 8: counted in each worker's memory, 10 an hour was 10 per worker. A
    # worker that has never seen this client (its memory is empty: the cache cleared here)
    # must still know about the other workers' 10.
    for _ in range(PER_CLIENT_PER_HOUR):
        assert client.post(feedback_url(), {"useful": "yes"}).status_code == 200
        cache.clear()
    assert client.post(feedback_url(), {"useful": "yes"}).status_code == 429
    assert Feedback.objects.count() == PER_CLIENT_PER_HOUR


def test_the_counts_keep_no_address(client, published):
    client.post(feedback_url(), {"useful": "yes"}, REMOTE_ADDR="192.0.2.44")
    keys = " ".join(RequestCount.objects.values_list("key", flat=True))
    assert "192.0.2.44" not in keys and keys.count("feedback:") == 2  # this client, and the site


def test_drafts_and_replaced_versions_take_no_feedback(client, published, make_procedure, make_draft):
    make_draft(make_procedure("draft-only"))
    assert client.post(feedback_url("draft-only"), {"useful": "yes"}).status_code == 404
    second = workflow.start_new_draft(published)
    workflow.publish(second)
    old_page = client.get(reverse("procedures:leaflet_version", args=["kidney-biopsy", 1])).content.decode()
    assert "Is this page useful?" not in old_page
    client.post(feedback_url(), {"useful": "no"})
    assert Feedback.objects.get().version == second


def test_editors_see_counts_and_comments(client, published, staff_client):
    for answer in ["yes", "yes", "no"]:
        client.post(feedback_url(), {"useful": answer}, REMOTE_ADDR=f"192.0.2.{len(answer)}")
    Feedback.objects.filter(useful=False).update(comment="Too many long words")
    page = staff_client.get(
        reverse("admin:procedures_leafletversion_change", args=[published.pk])
    ).content.decode()
    assert "<td>v1</td><td>2</td><td>1</td>" in page and "Too many long words" in page
    dashboard = staff_client.get(reverse("admin:procedures_leafletversion_dashboard")).content.decode()
    assert "<td>Kidney biopsy v1</td><td>2</td><td>1</td>" in dashboard
