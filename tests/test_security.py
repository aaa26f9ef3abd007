"""Production settings, security headers and cookies: what `check --deploy` and a browser see."""

import json
import re
import secrets
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.helpers import public_urls, run_django
from tests.live_markup import live_markup

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "leaflets.example.org",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
}
CHECK_DEPLOY = (
    "from django.core.management import execute_from_command_line; "
    "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
)


def production(**env):
    return {**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), **env}


@pytest.fixture(autouse=True)
def _as_in_production(monkeypatch):
    # The browser tests set this for Playwright; a real server never has it (async.E001).
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)


@pytest.mark.own_database
def test_production_settings_pass_the_deploy_check_with_no_warnings(tmp_path):
    result = run_django(CHECK_DEPLOY, tmp_path, **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.own_database
def test_the_deploy_check_would_catch_a_weak_setting(tmp_path):
    """The control for the test above: turning HSTS off makes the same command fail."""
    result = run_django(CHECK_DEPLOY, tmp_path, **production(DJANGO_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response):
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_security_headers(response):
    assert policy_of(response) == POLICY
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "nonce-" not in header and "unsafe-eval" not in header
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions


def test_every_kind_of_answer_carries_the_security_headers(client, small_library, staff_client, settings):
    # HSTS as production sets it (DJANGO_DEBUG off), whatever the shell running the tests exports;
    # the deploy check and the production cookie test check those defaults in a fresh process.
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    answers = [
        client.get("/", secure=True),
        client.get("/procedures/nephrostomy/", secure=True),
        client.get("/procedures/nephrostomy/print/", secure=True),
        client.get("/no-such-page/", secure=True),
        client.get("/admin/login/", secure=True),
        client.get("/static/css/site.css", secure=True),
    ]
    for response in answers:
        assert_security_headers(response)
    # HSTS on HTTPS answers, for a year, with subdomains and the preload token.
    assert answers[0]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_public_pages_stay_cacheable_because_the_policy_has_no_nonce(client, small_library):
    first = client.get("/procedures/nephrostomy/")
    second = client.get("/procedures/nephrostomy/")
    assert first["Content-Security-Policy"] == second["Content-Security-Policy"]
    assert first.content == second.content


def test_no_template_has_inline_script_or_style():
    """Inline code would be blocked by the policy, so none may be written: JSON-LD is data."""
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        if re.search(r"<style\b|\sstyle=", text):
            problems.append(f"{path.name}: inline style")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attributes = match.group(1)
            if (
                "src=" not in attributes
                and "application/ld+json" not in attributes
                and "application/json" not in attributes
            ):
                problems.append(f"{path.name}: inline script")
        if re.search(r"\son[a-z]+=", text):
            problems.append(f"{path.name}: event handler attribute")
    assert problems == []


def test_every_public_page_is_free_of_inline_code_and_foreign_markup(client, library):
    for url in public_urls():
        response = client.get(url)
        assert live_markup(response.content.decode()) == [], url


LOGIN_IN_PRODUCTION = """
import django, json, re
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("nurse", password="a long test password 1", is_staff=True)
from django.test import Client
client = Client(enforce_csrf_checks=True, HTTP_HOST="leaflets.example.org")
plain = client.get("/admin/login/")
form = client.get("/admin/login/", secure=True)
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
signed_in = client.post("/admin/login/?next=/admin/", {"username": "nurse",
    "password": "a long test password 1", "csrfmiddlewaretoken": token}, secure=True,
    HTTP_REFERER="https://leaflets.example.org/admin/login/")
def flags(morsel):
    return {key: morsel[key] for key in ("secure", "httponly", "expires", "max-age", "samesite")}
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "signed_in": [signed_in.status_code, signed_in.get("Location", "")],
    "session": flags(signed_in.cookies["sessionid"]),
    "csrf": flags(form.cookies["csrftoken"]),
    "hsts": form.get("Strict-Transport-Security", ""),
    "session_age": client.session.get_expiry_age(),
}))
"""


@pytest.mark.own_database
def test_production_cookies_are_secure_and_the_session_ends_with_the_shift(tmp_path, collected_static):
    result = run_django(
        LOGIN_IN_PRODUCTION,
        tmp_path,
        **production(
            DATABASE_URL=f"sqlite:///{tmp_path / 'login.sqlite3'}", DJANGO_STATIC_ROOT=str(collected_static)
        ),
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://leaflets.example.org/admin/login/"]
    assert seen["signed_in"] == [302, "/admin/"]
    assert seen["session"]["secure"] is True and seen["session"]["httponly"] is True
    assert seen["session"]["samesite"] == "Lax"
    # No expiry date on the cookie: it goes when the browser closes. On the server, a shift.
    assert seen["session"]["expires"] == "" and seen["session"]["max-age"] == ""
    assert seen["session_age"] == 8 * 60 * 60
    assert seen["csrf"]["secure"] is True
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"


def test_a_session_older_than_a_shift_is_signed_out(client, staff):
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.post("/admin/login/?next=/admin/", {"username": "nurse", "password": "a long test password 1"})
    assert client.get("/admin/").status_code == 200
    assert client.session.get_expiry_age() == django_settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
