"""Every error answer is a calm page in the site's words, never a stack trace: 400, 403, an
expired form (CSRF), 404, 500, and 503 when the database is down, for the admin too."""

import json

import pytest
from django.test import Client

from procedures import views
from tests.helpers import run_with_the_database_down
from tests.live_markup import live_markup

pytestmark = pytest.mark.django_db
NO_DETAILS = ("Traceback", "Exception", "Error at", "django.", 'File "', "DisallowedHost", "secret detail")


def assert_calm(response, status, *words):
    assert response.status_code == status
    body = response.content.decode()
    for word in words:
        assert word in body
    for detail in NO_DETAILS:
        assert detail not in body, detail
    assert '<html lang="en-GB"' in body and body.count("<h1") == 1
    assert live_markup(body) == []
    return body


def test_a_bad_host_gets_a_plain_400(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert_calm(response, 400, "Sorry, we could not open that page", "NHS 111")


def test_a_staff_member_without_permission_gets_a_plain_403(client, published, django_user_model):
    client.force_login(django_user_model.objects.create_user("clerk", password="x" * 16, is_staff=True))
    response = client.get(f"/admin/procedures/leafletversion/{published.pk}/preview/")
    assert_calm(response, 403, "You cannot open this page", "Procedures A to Z")


def test_an_expired_form_says_so_in_plain_words(published):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert_calm(response, 403, "This form has expired", "Nothing was saved", "Reload the page")


def test_a_bug_gets_a_calm_500_without_details(client, monkeypatch, small_library):
    def broken(query):
        raise ValueError("secret detail of the bug")

    monkeypatch.setattr(views.search_backend, "search", broken)
    client.raise_request_exception = False
    assert_calm(client.get("/search/?q=kidney"), 500, "Sorry, something went wrong", "999")


def test_a_missing_page_gets_a_calm_404(client, small_library):
    assert_calm(client.get("/procedures/no-such-leaflet/"), 404, "We cannot find that page")


OUTAGE = """
import django, json
django.setup()
from django.test import Client
anonymous, staff = Client(), Client()
staff.cookies["sessionid"] = "a-signed-in-nurse"
# Neither the redirect to the login page nor the empty form needs the database; signing in does.
assert anonymous.get("/admin/").status_code == 302
assert anonymous.get("/admin/login/").status_code == 200
answers = [
    anonymous.post("/admin/login/", {"username": "nurse", "password": "a long test password 1"}),
    staff.get("/admin/"),
    staff.get("/admin/procedures/leafletversion/"),
    staff.get("/admin/procedures/leafletversion/dashboard/"),
]
print(json.dumps([[a.status_code, a.content.decode(), a.get("Content-Security-Policy", "")]
                  for a in answers]))
"""


@pytest.mark.own_database
def test_with_the_database_down_staff_get_the_plain_503_too(tmp_path, department, collected_static):
    result = run_with_the_database_down(OUTAGE, tmp_path, department, collected_static)
    for status, body, policy in json.loads(result.stdout.strip().splitlines()[-1]):
        assert status == 503
        assert "unavailable for a short time" in body and "01632 960 555" in body
        for detail in NO_DETAILS:
            assert detail not in body, detail
        assert "frame-ancestors 'none'" in policy
