"""An editor changes a leaflet and sends it for review; an approver publishes it; a patient
sees the new text at once and the old version's address says it has been replaced."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from procedures.models import LeafletVersion
from tests.helpers import PASSWORD, roles, sign_in

pytestmark = pytest.mark.browser


def test_edit_submit_approve_publish(page, site, django_user_model):
    roles()
    for name, group in [("nurse", "Editors"), ("consultant", "Approvers")]:
        user = django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=group))

    live = LeafletVersion.objects.live("en").get(procedure__slug="nephrostomy").number

    # The editor starts a draft from the live leaflet, changes it and sends it for review.
    sign_in(page, site, "nurse")
    page.goto(site + "/admin/procedures/leafletversion/?q=nephrostomy&status=published&language__exact=en")
    page.get_by_role("link", name="Nephrostomy (kidney tube)").first.click()
    page.get_by_role("button", name="Start a new draft from this version").click()
    expect(page.get_by_text("New draft started from this version")).to_be_visible()
    page.locator("#id_what_it_is").fill(
        "A nephrostomy is a thin tube that drains your kidney. Updated wording."
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    page.get_by_role("link", name="Send for review").click()
    page.get_by_role("button", name="Send for review").click()
    expect(page.get_by_text("Sent for review.")).to_be_visible()
    expect(page.get_by_role("link", name="Approve and publish")).to_have_count(0)
    draft_url = page.url

    # Patients still see the live version.
    page.goto(site + "/procedures/nephrostomy/")
    expect(page.get_by_text("Updated wording.")).to_have_count(0)

    # The approver publishes it.
    sign_in(page, site, "consultant")
    page.goto(draft_url)
    page.get_by_role("link", name="Approve and publish").click()
    page.get_by_label("Comment (optional, kept in the log)").fill("Checked, thank you")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.get_by_text("Published: patients now see this version.")).to_be_visible()
    expect(page.locator("#workflow-log")).to_contain_text("Checked, thank you")

    # A patient sees the new text; the old address says it was replaced.
    page.context.clear_cookies()
    page.goto(site + "/procedures/nephrostomy/")
    expect(page.get_by_text("Updated wording.")).to_be_visible()
    expect(page.locator(".document-control")).to_contain_text(f"Version{live + 1}")
    page.goto(site + f"/procedures/nephrostomy/v/{live}/")
    expect(page.get_by_text("This version has been replaced.")).to_be_visible()
    page.get_by_role("link", name=f"Read the current version ({live + 1})").click()
    expect(page.get_by_text("Updated wording.")).to_be_visible()
