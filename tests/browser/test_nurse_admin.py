"""A nurse signs in, edits a draft with the live Markdown preview, and saves it."""

import pytest
from playwright.sync_api import expect

from procedures import workflow
from procedures.models import LeafletVersion

pytestmark = pytest.mark.browser


def test_nurse_edits_a_draft_and_sees_the_preview(page, site, django_user_model):
    django_user_model.objects.create_user(
        "nurse", password="a long test password 1", is_staff=True, is_superuser=True
    )
    draft = workflow.start_new_draft(LeafletVersion.objects.live("en").get(procedure__slug="nephrostomy"))

    page.goto(f"{site}/admin/procedures/leafletversion/{draft.pk}/change/")
    page.get_by_label("Username").fill("nurse")
    page.get_by_label("Password").fill("a long test password 1")
    page.get_by_role("button", name="Log in").click()

    editor = page.locator("#id_what_it_is")
    editor.fill("A **kidney tube** drains urine. <script>window.owned = 1</script>")
    preview = page.locator("#id_what_it_is").locator(
        "xpath=following-sibling::div[contains(@class, 'markdownx-preview')]"
    )
    preview.locator("strong", has_text="kidney tube").wait_for()
    assert "<script" not in preview.inner_html()

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    draft.refresh_from_db()
    assert "<strong>" in draft.what_it_is_html and "tube</strong> drains urine" in draft.what_it_is_html
    assert "<script" not in draft.what_it_is_html

    page.get_by_role("link", name="Preview as patients will see it").click()
    expect(page.get_by_text("Draft preview.")).to_be_visible()
    expect(page.get_by_text("drains urine").first).to_be_visible()
