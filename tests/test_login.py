"""Admin sign-in through the real login form: 5 wrong passwords for one username from one
address lock that pair out for 15 minutes with a page in plain words."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests.live_markup import live_markup

pytestmark = pytest.mark.django_db
PASSWORD = "a long test password 1"


@pytest.fixture
def nurse(django_user_model):
    return django_user_model.objects.create_user("nurse", password=PASSWORD, is_staff=True)


def browser(address="192.0.2.10", **extra):
    """A client that sends the form's CSRF token, as a browser does."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address, **extra)


def sign_in(client, username, password):
    form = client.get("/admin/login/?next=/admin/")
    assert form.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
    )


def is_signed_in(client):
    return client.get("/admin/").status_code == 200


def test_the_right_password_signs_in(nurse):
    client = browser()
    response = sign_in(client, "nurse", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert is_signed_in(client)


def test_a_refused_next_address_lands_on_the_admin_home_not_a_404(nurse):
    # Issue 15, defect 8: an off-site ?next= was refused (rightly) but sent staff to Django's
    # default /accounts/profile/, which does not exist here.
    client = browser()
    form = client.get("/admin/login/?next=https://evil.example/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    response = client.post(
        "/admin/login/",
        {
            "username": "nurse",
            "password": PASSWORD,
            "csrfmiddlewaretoken": token,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(response["Location"]).status_code == 200


def test_five_wrong_passwords_lock_the_username_from_that_address(nurse):
    client = browser()
    for attempt in range(4):
        response = sign_in(client, "nurse", f"wrong password {attempt}")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    locked = sign_in(client, "nurse", "wrong password 5")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Signing in is paused for 15 minutes" in page
    assert "The password was wrong 5 times in a row" in page
    assert live_markup(page) == []
    # Now even the right password is refused, and nothing is signed in.
    again = sign_in(client, "nurse", PASSWORD)
    assert again.status_code == 429 and "paused" in again.content.decode()
    assert not is_signed_in(client)


def test_the_lock_is_for_that_username_and_that_address_only(nurse, django_user_model):
    django_user_model.objects.create_user("approver", password=PASSWORD, is_staff=True)
    for attempt in range(5):
        sign_in(browser(), "nurse", f"wrong {attempt}")
    assert sign_in(browser(), "nurse", PASSWORD).status_code == 429
    # Another username from the same address, and the same username from another address.
    assert sign_in(browser(), "approver", PASSWORD).status_code == 302
    assert sign_in(browser("198.51.100.7"), "nurse", PASSWORD).status_code == 302


def test_the_lock_lifts_after_15_minutes(nurse):
    for attempt in range(5):
        sign_in(browser(), "nurse", f"wrong {attempt}")
    assert sign_in(browser(), "nurse", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=14)
    )
    assert sign_in(browser(), "nurse", PASSWORD).status_code == 429  # 14 minutes: still paused
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    client = browser()
    assert sign_in(client, "nurse", PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_a_success_clears_earlier_failures(nurse):
    for attempt in range(4):
        sign_in(browser(), "nurse", f"wrong {attempt}")
    assert sign_in(browser(), "nurse", PASSWORD).status_code == 302
    for attempt in range(4):  # four more wrong ones do not lock: the count started again
        assert sign_in(browser(), "nurse", f"wrong again {attempt}").status_code == 200


def test_behind_a_proxy_the_address_comes_from_the_configured_header(nurse, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    for attempt in range(5):
        sign_in(browser("10.0.0.1", HTTP_X_REAL_IP="203.0.113.5"), "nurse", f"wrong {attempt}")
    # Same proxy address, another real client: not locked. The locked client still is.
    assert sign_in(browser("10.0.0.1", HTTP_X_REAL_IP="203.0.113.99"), "nurse", PASSWORD).status_code == 302
    assert sign_in(browser("10.0.0.1", HTTP_X_REAL_IP="203.0.113.5"), "nurse", PASSWORD).status_code == 429


@pytest.mark.parametrize("password", ["short1", "password123456", "123456789012345"])
def test_weak_passwords_are_refused(nurse, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=nurse)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the client's own claim comes first
        ("2001:db8::1", "2001:db8::1"),
        ("", None),
        ("unknown", None),
        ("203.0.113.5<script>", None),
    ],
)
def test_the_client_address_is_an_address_or_nothing(rf, settings, header, expected):
    from procedures.views import client_address

    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert client_address(rf.get("/", HTTP_X_REAL_IP=header)) == expected


def test_a_proxy_header_holding_a_list_still_signs_in(nurse, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    client = browser(HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5")
    assert sign_in(client, "nurse", PASSWORD).status_code == 302
