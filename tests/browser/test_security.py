"""In a real browser: the Content-Security-Policy blocks injected script, and a nurse who
mistypes her password five times sees the lockout page, which passes axe-core."""

import pytest
from playwright.sync_api import expect

from tests.helpers import axe_violations, record_csp_violations

pytestmark = pytest.mark.browser


def test_the_policy_blocks_script_that_reaches_a_page(browser, site):
    """If markup ever slipped past the sanitiser, the browser would still refuse to run it."""
    context = browser.new_context()
    page = context.new_page()
    blocked = record_csp_violations(page)
    page.goto(site + "/procedures/nephrostomy/")
    page.evaluate("""() => {
        const box = document.createElement('div');
        box.innerHTML = '<img src="/nothing.png" onerror="window.owned = 1">';
        document.body.append(box);
        const script = document.createElement('script');
        script.textContent = 'window.owned = 2';
        document.body.append(script);
        const framed = document.createElement('a');
        framed.href = 'javascript:window.owned = 3';
        document.body.append(framed);
        framed.click();
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.owned") is None
    assert any("script-src" in line for line in blocked), blocked
    context.close()


def test_the_lockout_page_after_five_wrong_passwords(page, site, django_user_model):
    django_user_model.objects.create_user("nurse", password="a long test password 1", is_staff=True)
    page.goto(site + "/admin/login/")
    for attempt in range(5):
        page.get_by_label("Username").fill("nurse")
        page.get_by_label("Password").fill(f"not the password {attempt}")
        page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Signing in is paused for 15 minutes")
    assert axe_violations(page) == []
