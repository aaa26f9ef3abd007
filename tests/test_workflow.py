"""procedures/workflow.py: the one place a status changes, and the record it keeps.

Each numbered defect of issue 15 that lives here has a test below, named for what a nurse or
an approver would notice.
"""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse

from procedures import workflow
from procedures.models import LeafletVersion, WorkflowEvent, fingerprint
from tests.helpers import PASSWORD, admin_form_data, client_for

pytestmark = pytest.mark.django_db


def change_url(version):
    return reverse("admin:procedures_leafletversion_change", args=[version.pk])


def button(version, action):
    return reverse("admin:procedures_leafletversion_workflow", args=[version.pk, action])


def in_review(published, editor):
    draft = workflow.start_new_draft(published, by=editor)
    workflow.submit_for_review(draft, by=editor)
    return draft


def events(version):
    return list(WorkflowEvent.objects.filter(version=version).values_list("from_status", "to_status"))


# -- 1. approval is tied to the text the approver read --------------------------------------


def test_saving_a_version_in_review_sends_it_back_to_draft_and_logs_why(people, published):
    draft = in_review(published, people["editor"])
    response = client_for(people["editor2"]).post(
        change_url(draft), admin_form_data(draft, risks="Changed while the approver was reading.")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.risks == "Changed while the approver was reading."
    last = WorkflowEvent.objects.filter(version=draft).last()
    assert (last.from_status, last.to_status, last.actor) == ("in_review", "draft", people["editor2"])
    assert "Edited during review" in last.comment


def test_text_changed_after_the_approvers_preview_is_not_published(people, published):
    draft = in_review(published, people["editor"])
    approver = client_for(people["approver"])
    preview = approver.get(reverse("admin:procedures_leafletversion_preview", args=[draft.pk]))
    read = draft.content_hash()
    assert fingerprint(read) in preview.content.decode()
    # The editor changes the text and sends it for review again before the approver presses.
    client_for(people["editor"]).post(change_url(draft), admin_form_data(draft, risks="A new risk, unread."))
    workflow.submit_for_review(LeafletVersion.objects.get(pk=draft.pk), by=people["editor"])

    confirm = approver.get(button(draft, "publish") + f"?text={read}")
    assert "The text has changed since you previewed it" in confirm.content.decode()
    response = approver.post(button(draft, "publish"), {"content_hash": read})
    assert response.status_code == 400
    assert "The text has changed since you read it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "in_review" and draft.number is None
    assert LeafletVersion.objects.live("en").get() == published


def test_the_text_published_is_the_text_approved_and_the_log_keeps_its_hash(people, published):
    draft = in_review(published, people["editor"])
    read = draft.content_hash()
    approver = client_for(people["approver"])
    confirm = approver.get(button(draft, "publish") + f"?text={read}").content.decode()
    assert fingerprint(read) in confirm and f'value="{read}"' in confirm
    assert approver.post(button(draft, "publish"), {"content_hash": read}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published" and draft.content_hash() == read
    published_event = WorkflowEvent.objects.get(version=draft, to_status="published")
    assert published_event.content_hash == read and published_event.actor == people["approver"]


def test_a_publish_without_the_approved_text_publishes_nothing(people, published):
    draft = in_review(published, people["editor"])
    response = client_for(people["approver"]).post(button(draft, "publish"))
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.status == "in_review"


def test_a_form_opened_before_send_for_review_cannot_save_into_it(people, published):
    draft = workflow.start_new_draft(published, by=people["editor"])
    opened = admin_form_data(draft, risks="Typed in a form opened before the review began.")
    workflow.submit_for_review(draft, by=people["editor2"])
    response = client_for(people["editor"]).post(change_url(draft), opened)
    assert response.status_code == 200
    assert "saved this draft while you were editing it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "in_review" and draft.risks == published.risks


# -- 2. two publishes of one draft at once ---------------------------------------------------


def test_a_double_click_on_approve_publishes_once_and_says_so(people, published):
    draft = in_review(published, people["editor"])
    approver = client_for(people["approver"])
    shown = {"content_hash": draft.content_hash()}
    assert approver.post(button(draft, "publish"), shown).status_code == 302
    second = approver.post(button(draft, "publish"), shown, follow=True)
    assert "was already published by approver" in second.content.decode()
    assert_record_whole(published, draft)


def assert_record_whole(previous, draft):
    """One live version, numbered next, the one before it superseded once: "which version was
    live today?" has exactly one answer."""
    previous.refresh_from_db()
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.retired_at) == ("published", previous.number + 1, None)
    assert previous.status == "superseded"
    assert LeafletVersion.objects.live("en").get() == draft
    assert events(draft).count(("in_review", "published")) == 1
    assert events(draft).count(("published", "superseded")) == 0
    assert events(previous).count(("published", "superseded")) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: the PostgreSQL run tests them")
def test_two_approvers_publishing_at_once_one_wins_the_other_is_told(people, published):
    draft = in_review(published, people["editor"])
    read = draft.content_hash()
    start, outcomes = threading.Barrier(2), {}

    def approve(name):
        try:
            # Each thread its own copy, both read before either publishes, as two requests
            # from two approvers' open pages would be.
            mine = LeafletVersion.objects.get(pk=draft.pk)
            start.wait(timeout=10)
            workflow.publish(mine, by=people[name], approved_hash=read)
            outcomes[name] = "published"
        except workflow.AlreadyDone as done:
            outcomes[name] = " ".join(done.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("approver", "approver2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values())[-1] == "published"
    told = [message for message in outcomes.values() if message != "published"]
    assert len(told) == 1 and "was already published by approver" in told[0]
    assert_record_whole(published, draft)


# -- 6. one draft per leaflet, in the database -----------------------------------------------


def test_the_database_refuses_a_second_draft_of_a_leaflet(published, make_draft):
    workflow.start_new_draft(published)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_draft(published.procedure)


def test_the_add_form_sends_a_nurse_to_the_draft_that_exists(people, published, staff_client):
    draft = workflow.start_new_draft(published, by=people["editor"])
    response = staff_client.post(
        reverse("admin:procedures_leafletversion_add"),
        {**admin_form_data(draft), "procedure": published.procedure.pk},
    )
    assert response.status_code == 200
    assert "This leaflet already has a draft" in response.content.decode()
    assert change_url(draft) in response.content.decode()
    assert LeafletVersion.objects.drafts().count() == 1


def test_a_review_with_no_change_leaves_a_nurses_draft_alone(people, published):
    draft = workflow.start_new_draft(published, by=people["editor"], risks="Work in progress.")
    review = workflow.record_review(published, by=people["approver"])
    draft.refresh_from_db()
    assert (review.status, review.number) == ("published", 2)
    assert draft.status == "draft" and draft.risks == "Work in progress."


# -- 8. the own-draft rule follows the person ------------------------------------------------


def test_an_approver_account_made_by_the_author_cannot_approve_their_draft(published, django_user_model):
    chief = django_user_model.objects.create_superuser("chief", "chief@example.org", PASSWORD)
    client = client_for(chief)
    draft = workflow.start_new_draft(published, by=chief)
    workflow.submit_for_review(draft, by=chief)
    made = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "second-me",
            "password1": PASSWORD + "x",
            "password2": PASSWORD + "x",
            "usable_password": "true",
        },
    )
    assert made.status_code == 302
    puppet = django_user_model.objects.get(username="second-me")
    puppet.is_staff = True
    puppet.save()
    puppet.groups.add(Group.objects.get(name="Approvers"))
    response = client_for(puppet).post(button(draft, "publish"), {"content_hash": draft.content_hash()})
    assert response.status_code == 403
    assert "another approver must approve it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "in_review"
    # The log says who made whom, where an administrator of accounts looks.
    accounts = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "second-me" in accounts and "chief" in accounts
    assert workflow.account_made_by(puppet).get().user == chief


# -- the order: the search index and the page cache follow each step -------------------------


def test_publishing_reindexes_and_changes_the_library_generation(published):
    from procedures import caching

    before = caching.library_state()[0]
    draft = workflow.start_new_draft(published, what_it_is="A heron stands in the reeds.")
    assert caching.library_state()[0] == before  # a draft changes nothing patients see
    workflow.publish(draft)
    assert caching.library_state()[0] != before
    published.procedure.refresh_from_db()
    assert "heron" in published.procedure.search_text
