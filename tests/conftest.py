"""Shared fixtures: a few named people and small leaflets built through the real models."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from procedures.library import load_library
from procedures.models import Category, Department, LeafletVersion, Procedure
from procedures.sections import SECTIONS
from procedures import workflow


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    # Uploads and the outage contacts file go to a temporary folder, never the repo.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OUTAGE_CONTACTS_FILE = tmp_path / "var" / "outage-contacts.json"
    # Usage counts are written once a minute from inside a request; a test that counts them
    # writes them itself (usage.flush()), so no test's query count depends on its speed.
    settings.USAGE_FLUSH_SECONDS = 24 * 60 * 60
    # Real password hashing costs ~0.3 s per user; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production's hashed static files need collectstatic first; tests read static/ directly.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _english_to_start_with():
    # LocaleMiddleware leaves the last request's language active in the thread, so a test that
    # reverses a URL after another test asked for /ar/ would otherwise get an Arabic address.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    # Each test's database is rolled back, so primary keys come round again: a PDF or page
    # cached by an earlier test could otherwise match a later test's different leaflet.
    from django.core.cache import cache

    from procedures import usage
    from procedures.caching import forget_library_state

    cache.clear()
    forget_library_state()  # the library token each process keeps between requests
    usage.forget()  # usage counts not yet written name versions of another test's database
    yield
    usage.forget()


def admin_form_data(version, **changes):
    """What the admin's change form posts for `version`, with `changes` typed in."""
    data = {
        "opened_revision": version.revision,
        "sources": version.sources,
        "is_sample_content": "on",
        "last_reviewed": version.last_reviewed.isoformat(),
        "next_review_due": version.next_review_due.isoformat(),
        **{s.field: getattr(version, s.field) for s in SECTIONS},
    }
    data.update(changes)
    return data


def section_text(**overrides):
    text = {s.field: f"Plain words about {s.heading.lower()}" for s in SECTIONS}
    text.update(overrides)
    return text


@pytest.fixture
def category(db):
    return Category.objects.create(name="Biopsies", slug="biopsy", summary="Taking a small sample.")


@pytest.fixture
def make_procedure(category):
    count = iter(range(1, 1000))

    def make(slug="kidney-biopsy", title=None, **fields):
        n = next(count)
        return Procedure.objects.create(
            slug=slug,
            title=title or slug.replace("-", " ").capitalize(),
            resource_number=fields.pop("resource_number", f"IR-T{n:03d}"),
            category=fields.pop("category", category),
            summary=fields.pop("summary", "A short plain summary."),
            **fields,
        )

    return make


@pytest.fixture
def make_draft():
    def make(procedure, **sections):
        return LeafletVersion.objects.create(
            procedure=procedure,
            sources="Society of Interventional Radiology: standards of practice",
            last_reviewed=datetime.date(2026, 11, 1),
            **section_text(**sections),
        )

    return make


@pytest.fixture
def published(make_procedure, make_draft):
    """A procedure with one published version (v1)."""
    procedure = make_procedure("kidney-biopsy", title="Kidney biopsy")
    version = make_draft(procedure)
    workflow.publish(version)
    return version


@pytest.fixture
def department(db):
    return Department.objects.create(
        name="Interventional Radiology",
        slug="test-ir",
        site="Testford General Hospital",
        address="Level 2\nTestford",
        phone="01632 960 555",
        email="ir@example.org",
        opening_hours="Monday to Friday, 8am to 6pm",
        urgent_advice="Call us in working hours. Out of hours call **NHS 111**.",
        switchboard="01632 960 000",
        out_of_hours_route="Ask for the on-call interventional radiologist.",
    )


@pytest.fixture
def library(db):
    """The real leaflet library from content/, loaded as `./dev run` loads it."""
    load_library(settings.CONTENT_DIR)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        "nurse", password="a long test password 1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def empty_the_database():
    """flush, as a restore test needs, inside the test's transaction. PostgreSQL will not
    TRUNCATE tables with foreign-key checks still deferred, so run those checks first."""
    from django.core.management import call_command
    from django.db import connection

    connection.check_constraints()
    call_command("flush", interactive=False, verbosity=0)
