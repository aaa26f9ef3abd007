"""Shared fixtures: a few named people, small leaflets built through the real models, and the
leaflet library (the real one, and a small one made from its files). Helper functions are in
tests/helpers.py."""

import datetime

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from procedures import workflow
from procedures.library import load_library
from procedures.models import Category, Department, LeafletVersion, Procedure
from tests.helpers import (
    PASSWORD,
    PRODUCTION_STATIC_STORAGE,
    copy_rows,
    roles,
    rows_written_by,
    section_text,
    write_small_library,
)


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help=(
            "only the tests whose result can depend on the database (DATABASE_URL): for running "
            "the suite again on another database, as .ci/run does on PostgreSQL"
        ),
    )


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--database-tests-only"):
        return
    database_fixtures = {"db", "transactional_db", "live_server"}
    kept, left_out = [], []
    for item in items:
        uses_the_database = item.get_closest_marker("django_db") or database_fixtures & set(item.fixturenames)
        (left_out if not uses_the_database or item.get_closest_marker("own_database") else kept).append(item)
    config.hook.pytest_deselected(items=left_out)
    items[:] = kept


@pytest.fixture(autouse=True)
def _isolated_files(settings, tmp_path):
    # Uploads and the outage contacts file go to a temporary folder, never the repo.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OUTAGE_CONTACTS_FILE = tmp_path / "var" / "outage-contacts.json"
    settings.LOCK_DIR = tmp_path / "var" / "locks"
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


@pytest.fixture
def frozen_clock(monkeypatch):
    """The clock the library token's freshness is measured by, moved only by the test: the
    front (StoredPageFront) answers only while this process's token is STATE_MEMO_SECONDS old
    or younger."""
    from procedures import caching

    now = [1000.0]
    monkeypatch.setattr(caching, "monotonic", lambda: now[0])
    return now


@pytest.fixture(autouse=True)
def _empty_cache():
    # Each test's database is rolled back, so primary keys come round again: a PDF or page
    # cached by an earlier test could otherwise match a later test's different leaflet.
    from django.core.cache import cache

    from procedures import throttle, usage
    from procedures.caching import forget_library_state, forget_ready_pages

    cache.clear()
    forget_ready_pages()  # the pages each process keeps ready (StoredPageFront)
    forget_library_state()  # the library token each process keeps between requests
    throttle.forget_limits()  # the counts it has seen at a limit: their rows are rolled back
    usage.forget()  # usage counts not yet written name versions of another test's database
    yield
    usage.forget()


@pytest.fixture(scope="session", autouse=True)
def _roles_after_every_flush():
    # A transactional or live-server test empties every table when it ends (Django's flush).
    # Content types and permissions come back, made by post_migrate receivers, which the flush
    # sends; the Editors and Approvers groups that migration 0003 makes do not. So make them
    # again there too, after the permissions: whatever test a worker runs next (worksteal hands
    # them out in any order) finds the database as migrated.
    from django.db.models.signals import post_migrate

    def put_back_roles(**kwargs):
        roles()

    sender = apps.get_app_config("procedures")
    post_migrate.connect(put_back_roles, sender=sender, dispatch_uid="tests-roles-after-flush")
    yield
    post_migrate.disconnect(sender=sender, dispatch_uid="tests-roles-after-flush")


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


def _loaded_once(django_db_blocker, folder, content_dir):
    """The rows load_library writes for `content_dir`, loaded once in a rolled-back transaction
    (see tests/helpers.py). Files it would write go to `folder`, never the repo's var/."""
    with django_db_blocker.unblock(), override_settings(OUTAGE_CONTACTS_FILE=folder / "outage-contacts.json"):
        return rows_written_by(lambda: load_library(content_dir))


@pytest.fixture(scope="session")
def _real_library_rows(django_db_setup, django_db_blocker, tmp_path_factory):
    return _loaded_once(django_db_blocker, tmp_path_factory.mktemp("real-library"), settings.CONTENT_DIR)


@pytest.fixture(scope="session")
def _small_content(tmp_path_factory):
    return write_small_library(tmp_path_factory.mktemp("small-library") / "content")


@pytest.fixture(scope="session")
def _small_library_rows(django_db_setup, django_db_blocker, tmp_path_factory, _small_content):
    return _loaded_once(django_db_blocker, tmp_path_factory.mktemp("small-library-var"), _small_content)


@pytest.fixture
def library(db, _real_library_rows):
    """The real leaflet library from content/ (all 29 leaflets), as `./dev run` loads it. Only
    for tests about the whole library; the others use small_library. Ask for it before any
    fixture that makes leaflets, departments or words of its own."""
    copy_rows(_real_library_rows)


@pytest.fixture
def small_library(db, _small_library_rows):
    """Three real leaflets, one Arabic translation, one department and the glossary, from the
    files in content/ (tests.helpers.SMALL_LEAFLETS), loaded as `./dev run` loads them."""
    copy_rows(_small_library_rows)


@pytest.fixture
def small_content(tmp_path):
    """The small library's files in a folder of this test's own, to change and load."""
    return write_small_library(tmp_path / "content")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """A STATIC_ROOT as production serves it (hashed, compressed names and their manifest),
    collected once: collectstatic takes seconds. For tests, and child processes, that run with
    production's storage."""
    root = tmp_path_factory.mktemp("static")
    storages = {**settings.STORAGES, "staticfiles": PRODUCTION_STATIC_STORAGE}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        "nurse", password="a long test password 1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def people(django_user_model):
    """One person in each role, as the migration's groups define them."""
    from django.contrib.auth.models import Group

    made = {}
    for name, group in [
        ("editor", "Editors"),
        ("editor2", "Editors"),
        ("approver", "Approvers"),
        ("approver2", "Approvers"),
        ("administrator", "Administrators"),
    ]:
        user = django_user_model.objects.create_user(name, f"{name}@example.org", PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        made[name] = user
    return made
