"""Document control: who may do what, every step logged, history, archive, reviews."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from procedures import workflow
from procedures.models import LeafletVersion, WorkflowEvent, add_months
from procedures.sections import SECTIONS
from tests.helpers import PASSWORD, admin_form_data, client_for

pytestmark = pytest.mark.django_db


def press(client, version, action, comment=""):
    """Press a workflow button as the admin's confirm page does: with the fingerprint of the
    text shown on it."""
    shown = LeafletVersion.objects.get(pk=version.pk).content_hash()
    return client.post(
        reverse("admin:procedures_leafletversion_workflow", args=[version.pk, action]),
        {"comment": comment, "content_hash": shown},
    )


def change(client, version, **sections):
    version.refresh_from_db()
    url = reverse("admin:procedures_leafletversion_change", args=[version.pk])
    return client.post(url, admin_form_data(version, **sections))


def draft_in_review(published, author):
    draft = workflow.start_new_draft(published, by=author)
    workflow.submit_for_review(draft, by=author)
    return draft


# -- the permission matrix, through the admin's own URLs ---------------------------------

ROLES = ["editor", "approver", "administrator"]
ALLOWED = {
    # action: roles allowed
    "edit": {"editor", "administrator"},
    "submit": {"editor", "administrator"},
    "approve": {"approver", "administrator"},
    "publish own draft": set(),  # nobody approves their own work
    "withdraw": {"approver", "administrator"},
    # Staff accounts are for superusers only (issue 15, defect 8): whoever can change accounts
    # can give any account any right, their own included.
    "see staff accounts": {"administrator"},
    "add a staff account": set(),
    "make themselves a superuser": set(),
    "give themselves another role": set(),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ALLOWED)
def test_permission_matrix(people, published, role, action):
    user, client = people[role], client_for(people[role])
    allowed = role in ALLOWED[action]
    if action == "edit":
        draft = workflow.start_new_draft(published, by=people["editor2"])
        response = change(client, draft, risks="Edited by " + role)
        draft.refresh_from_db()
        assert (draft.risks == "Edited by " + role) is allowed
        assert response.status_code == (302 if allowed else 403)
    elif action == "submit":
        draft = workflow.start_new_draft(published, by=people["editor2"])
        response = press(client, draft, "submit")
        draft.refresh_from_db()
        assert (draft.status == "in_review") is allowed
        assert response.status_code == (302 if allowed else 403)
    elif action == "approve":
        draft = draft_in_review(published, people["editor2"])
        response = press(client, draft, "publish")
        draft.refresh_from_db()
        assert (draft.status == "published") is allowed
        assert response.status_code == (302 if allowed else 403)
    elif action == "publish own draft":
        draft = draft_in_review(published, people["editor2"])
        LeafletVersion.objects.filter(pk=draft.pk).update(author=user)  # the role's own draft
        response = press(client, draft, "publish")
        draft.refresh_from_db()
        assert draft.status == "in_review"
        assert response.status_code == 403
        if role != "editor":
            assert "another approver must approve it" in response.content.decode()
    elif action == "withdraw":
        response = press(client, published, "withdraw", "Replaced by national leaflet")
        published.refresh_from_db()
        assert (published.status == "withdrawn") is allowed
        assert response.status_code == (302 if allowed else 403)
    elif action == "see staff accounts":
        response = client.get(reverse("admin:auth_user_changelist"))
        assert response.status_code == (200 if allowed else 403)
    elif action == "add a staff account":
        response = client.post(
            reverse("admin:auth_user_add"),
            {
                "username": "minted",
                "password1": PASSWORD + "!",
                "password2": PASSWORD + "!",
                "usable_password": "true",
            },
        )
        assert response.status_code == 403
        assert not user._meta.model.objects.filter(username="minted").exists()
    else:  # changing their own account: superuser, or a role they do not have
        approvers = Group.objects.exclude(user=user).filter(name__in=["Approvers", "Administrators"]).first()
        response = client.post(
            reverse("admin:auth_user_change", args=[user.pk]),
            {
                "username": user.username,
                "email": user.email,
                "is_active": "on",
                "is_staff": "on",
                "is_superuser": "on",
                "groups": [g.pk for g in user.groups.all()] + [approvers.pk],
                "last_login_0": "",
                "last_login_1": "",
                "date_joined_0": "2026-12-01",
                "date_joined_1": "09:00:00",
            },
        )
        assert response.status_code == 403
        user.refresh_from_db()
        assert not user.is_superuser and approvers not in user.groups.all()


def test_a_superuser_manages_staff_accounts(people, django_user_model):
    chief = django_user_model.objects.create_superuser("chief", "chief@example.org", PASSWORD)
    client = client_for(chief)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "new-nurse",
            "password1": PASSWORD + "!",
            "password2": PASSWORD + "!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert django_user_model.objects.filter(username="new-nurse").exists()
    # The list says who made each account made here.
    accounts = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert re.search(r"new-nurse.*?chief", accounts, re.S)


def test_editing_a_draft_makes_you_a_contributor_who_cannot_approve_it(people, published):
    draft = workflow.start_new_draft(published, by=people["editor"])
    # An administrator edits the text, so they may no longer be the one to approve it.
    assert change(client_for(people["administrator"]), draft, risks="Clearer risks").status_code == 302
    workflow.submit_for_review(draft, by=people["editor"])
    assert press(client_for(people["administrator"]), draft, "publish").status_code == 403
    assert press(client_for(people["approver"]), draft, "publish").status_code == 302


def test_approvers_see_no_edit_form_and_editors_see_no_publish_button(people, published):
    draft = draft_in_review(published, people["editor"])
    url = reverse("admin:procedures_leafletversion_change", args=[draft.pk])
    approver_page = client_for(people["approver"]).get(url).content.decode()
    editor_page = client_for(people["editor"]).get(url).content.decode()
    assert 'name="risks"' not in approver_page and "Approve and publish" in approver_page
    assert 'name="risks"' in editor_page and "Approve and publish" not in editor_page


# -- every transition, logged -------------------------------------------------------------


def events(version):
    return list(
        WorkflowEvent.objects.filter(version=version).values_list(
            "from_status", "to_status", "actor__username", "comment"
        )
    )


def test_the_whole_workflow_is_logged(people, published):
    editor, approver = client_for(people["editor"]), client_for(people["approver"])
    editor.post(reverse("admin:procedures_leafletversion_new_draft", args=[published.pk]))
    draft = LeafletVersion.objects.drafts().get()
    assert change(editor, draft, risks="- Bleeding: uncommon (about 1 in 200 people)").status_code == 302

    assert press(editor, draft, "submit").status_code == 302
    response = press(approver, draft, "return")  # a comment is required
    assert response.status_code == 400 and "Say what needs to change" in response.content.decode()
    assert press(approver, draft, "return", "Please add the chance of infection").status_code == 302
    assert press(editor, draft, "submit", "Infection added").status_code == 302
    assert press(approver, draft, "publish", "Checked against CIRSE figures").status_code == 302

    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, draft.number, draft.approver) == ("published", 2, people["approver"])
    assert published.status == "superseded"
    assert events(draft) == [
        ("", "draft", "editor", "Started from version 1"),
        ("draft", "in_review", "editor", ""),
        ("in_review", "draft", "approver", "Please add the chance of infection"),
        ("draft", "in_review", "editor", "Infection added"),
        ("in_review", "published", "approver", "Checked against CIRSE figures"),
    ]
    assert events(published)[-1] == ("published", "superseded", "approver", "Replaced by a newer version")
    page = approver.get(reverse("admin:procedures_leafletversion_change", args=[draft.pk])).content.decode()
    assert "Workflow log for this leaflet" in page and "Please add the chance of infection" in page

    assert press(approver, draft, "withdraw", "Service stopped").status_code == 302
    assert events(draft)[-1] == ("published", "withdrawn", "approver", "Service stopped")


def test_a_review_with_no_change_makes_a_new_version_with_new_dates(people, published):
    today = timezone.localdate()
    response = press(client_for(people["approver"]), published, "review")
    assert response.status_code == 302
    review = LeafletVersion.objects.live("en").get()
    assert review.number == 2 and review.approver == people["approver"]
    assert review.last_reviewed == today
    assert review.next_review_due == add_months(today, 36)
    assert all(getattr(review, s.field) == getattr(published, s.field) for s in SECTIONS)
    # Straight into the record: it was never a draft that could collide with a nurse's.
    assert events(review)[-1] == ("", "published", "approver", "Reviewed, no change")


def test_the_model_refuses_even_without_the_admin(people, published):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        workflow.withdraw(published, by=people["editor"])
    with pytest.raises(PermissionDenied):
        workflow.start_new_draft(published, by=people["approver"])


# -- two nurses saving at once ---------------------------------------------------------------


def test_the_second_of_two_editors_is_stopped_and_loses_nothing(people, published):
    draft = workflow.start_new_draft(published, by=people["editor"])
    first, second = client_for(people["editor"]), client_for(people["editor2"])
    url = reverse("admin:procedures_leafletversion_change", args=[draft.pk])
    opened = {}
    for name, client in [("first", first), ("second", second)]:
        page = client.get(url).content.decode()
        opened[name] = int(re.search(r'name="opened_revision" value="(\d+)"', page).group(1))

    def data(revision, risks):
        return admin_form_data(draft, opened_revision=revision, risks=risks)

    assert first.post(url, data(opened["first"], "First nurse's risks")).status_code == 302
    clash = second.post(url, data(opened["second"], "Second nurse's risks"))
    body = clash.content.decode()
    assert clash.status_code == 200
    assert "editor saved this draft while you were editing it, so nothing was saved" in body
    assert "They changed: What are the risks?" in body
    assert "Second nurse&#x27;s risks" in body  # still in the box
    assert "First nurse" in body  # what the other editor wrote is shown
    draft.refresh_from_db()
    assert draft.risks == "First nurse's risks"
    # Having seen the changes, saving again is a deliberate choice and goes through.
    again = int(re.search(r'name="opened_revision" value="(\d+)"', body).group(1))
    assert second.post(url, data(again, "Second nurse's risks")).status_code == 302
    draft.refresh_from_db()
    assert draft.risks == "Second nurse's risks"


def test_saving_again_after_a_clash_keeps_the_other_editors_sections(people, published):
    # Issue 15, defect 8: "Save again" put back the old text of every section the second
    # editor had not touched, undoing the first editor's work without a word.
    draft = workflow.start_new_draft(published, by=people["editor"])
    first, second = client_for(people["editor"]), client_for(people["editor2"])
    url = reverse("admin:procedures_leafletversion_change", args=[draft.pk])

    def revision(page):
        return int(re.search(r'name="opened_revision" value="(\d+)"', page).group(1))

    opened = revision(second.get(url).content.decode())
    assert change(first, draft, risks="Risks the first nurse corrected.").status_code == 302
    clash = second.post(
        url, admin_form_data(draft, opened_revision=opened, benefits="Benefits, second nurse.")
    )
    body = clash.content.decode()
    assert "saved this draft while you were editing it" in body
    box = re.search(r'<textarea name="risks"[^>]*>(.*?)</textarea>', body, re.S).group(1)
    assert box.strip() == "Risks the first nurse corrected."  # their text, in the box they did not touch
    again = second.post(
        url,
        admin_form_data(
            draft,
            opened_revision=revision(body),
            risks="Risks the first nurse corrected.",
            benefits="Benefits, second nurse.",
        ),
    )
    assert again.status_code == 302
    draft.refresh_from_db()
    assert (draft.risks, draft.benefits) == ("Risks the first nurse corrected.", "Benefits, second nurse.")


# -- history, compare, restore ----------------------------------------------------------------


def test_every_save_is_kept_and_any_two_versions_compare_by_section(people, published):
    editor = client_for(people["editor"])
    draft = workflow.start_new_draft(published, by=people["editor"])
    change(editor, draft, risks="Risk wording one")
    change(editor, draft, risks="Risk wording two", benefits="Better benefits")
    assert draft.history.count() == 3  # created, then two saves
    url = reverse("admin:procedures_leafletversion_compare", args=[draft.pk])
    page = editor.get(url, {"a": f"v{published.pk}", "b": f"v{draft.pk}"}).content.decode()
    assert "<h2>What are the risks?</h2>" in page and "<h2>What are the benefits?</h2>" in page
    assert "<ins>Risk wording two</ins>" in page
    assert "<h2>What is it?</h2>" not in page  # unchanged sections are not listed
    oldest_save = draft.history.order_by("history_date").first()
    page = editor.get(url, {"a": f"h{oldest_save.history_id}", "b": f"v{draft.pk}"}).content.decode()
    assert "<ins>Better benefits</ins>" in page


def test_an_old_versions_text_can_be_restored_into_a_new_draft(people, published):
    second = workflow.start_new_draft(published, by=people["editor"], risks="Second version risks")
    workflow.submit_for_review(second, by=people["editor"])
    workflow.publish(second, by=people["approver"], approved_hash=second.content_hash())
    editor = client_for(people["editor"])
    response = editor.post(
        reverse("admin:procedures_leafletversion_restore", args=[second.pk]), {"key": f"v{published.pk}"}
    )
    restored = LeafletVersion.objects.drafts().get()
    assert response["Location"] == reverse("admin:procedures_leafletversion_change", args=[restored.pk])
    assert restored.risks == published.risks != second.risks
    published.refresh_from_db()
    assert published.status == "superseded"  # the record itself never changes


# -- archive: which version was live on a day ------------------------------------------------


def test_which_version_was_live_on_a_date(people, published, capsys):
    LeafletVersion.objects.filter(pk=published.pk).update(
        published_at=datetime.datetime(2026, 1, 10, 9, 0, tzinfo=timezone.get_current_timezone())
    )
    second = workflow.start_new_draft(published, by=people["editor"])
    workflow.submit_for_review(second, by=people["editor"])
    workflow.publish(second, by=people["approver"], approved_hash=second.content_hash())
    LeafletVersion.objects.filter(pk=published.pk).update(
        retired_at=datetime.datetime(2026, 6, 1, 12, 0, tzinfo=timezone.get_current_timezone())
    )
    LeafletVersion.objects.filter(pk=second.pk).update(
        published_at=datetime.datetime(2026, 6, 1, 12, 0, tzinfo=timezone.get_current_timezone())
    )

    assert LeafletVersion.objects.live_on(datetime.date(2026, 3, 1)).get() == published
    assert LeafletVersion.objects.live_on(datetime.date(2026, 6, 1)).get() == second
    assert not LeafletVersion.objects.live_on(datetime.date(2025, 12, 1)).exists()

    call_command("leaflet_history", "kidney-biopsy", "--on", "2026-03-01")
    output = capsys.readouterr().out
    assert "v1  Superseded" in output and "v2  Published" in output
    assert "On 01 March 2026 patients were given version 1." in output

    page = (
        client_for(people["approver"])
        .get(
            reverse("admin:procedures_leafletversion_live_on"),
            {"procedure": published.procedure_id, "date": "2026-07-01"},
        )
        .content.decode()
    )
    assert "patients were given" in page and "version 2" in page


# -- reviews due ---------------------------------------------------------------------------------


def leaflet_due(make_procedure, make_draft, slug, due):
    draft = make_draft(make_procedure(slug, title=slug.replace("-", " ").capitalize()))
    draft.last_reviewed, draft.next_review_due = due - datetime.timedelta(days=1000), due
    draft.save()
    workflow.publish(draft)
    return draft


def test_overdue_leaflets_stay_visible_and_say_so(client, make_procedure, make_draft):
    published = leaflet_due(make_procedure, make_draft, "kidney-biopsy", datetime.date(2020, 1, 1))
    body = client.get(published.procedure.get_absolute_url()).content.decode()
    assert "review overdue" in body


def test_dashboard_lists_overdue_and_due_soon_by_owner(people, make_procedure, make_draft):
    today = timezone.localdate()
    overdue = leaflet_due(make_procedure, make_draft, "kidney-biopsy", today - datetime.timedelta(days=3))
    leaflet_due(make_procedure, make_draft, "liver-biopsy", today + datetime.timedelta(days=30))
    leaflet_due(make_procedure, make_draft, "lung-biopsy", today + datetime.timedelta(days=300))
    procedure = overdue.procedure
    procedure.owner = people["editor"]
    procedure.save()
    page = (
        client_for(people["approver"])
        .get(reverse("admin:procedures_leafletversion_dashboard"))
        .content.decode()
    )
    overdue_part, soon_part = (
        page.split("Due in the next 90 days")[0],
        page.split("Due in the next 90 days")[1],
    )
    assert "Overdue for review (1)" in page and "Kidney biopsy v1" in overdue_part
    assert "Liver biopsy v1" in soon_part.split("By owner")[0]
    assert "<h3>editor</h3>" in page
    assert "Lung biopsy" not in page


def test_review_reminders_email_owners_once_a_week(people, make_procedure, make_draft):
    due = leaflet_due(
        make_procedure, make_draft, "kidney-biopsy", timezone.localdate() + datetime.timedelta(days=10)
    )
    leaflet_due(
        make_procedure, make_draft, "lung-biopsy", timezone.localdate() + datetime.timedelta(days=300)
    )
    procedure = due.procedure
    procedure.owner = people["editor"]
    procedure.save()
    call_command("review_reminders")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["editor@example.org"]
    assert "Kidney biopsy (IR-T001, v1): review due" in mail.outbox[0].body
    assert "Lung biopsy" not in mail.outbox[0].body
    call_command("review_reminders")  # the next day's cron run
    assert len(mail.outbox) == 1
