"""Helpers shared by the tests: plain functions, imported where they are used. Fixtures live in
tests/conftest.py (and tests/browser/conftest.py); a function lives here when more than one test
file needs it."""

import functools
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.core.signals import request_started
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent

# Every public page runs at most this many SQL queries, however large the library
# (tests/test_query_budget.py); the search index's statements are held to it too.
QUERY_BUDGET = 4


def reads_and_counts(queries):
    """How many of a request's statements (a CaptureQueriesContext) read, and how many count
    the request for flood control."""
    from procedures.models import RequestCount

    counting = [q for q in queries.captured_queries if RequestCount._meta.db_table in q["sql"]]
    return len(queries) - len(counting), len(counting)


# What production serves static files with (ir_portal/settings.py when DJANGO_DEBUG is off).
PRODUCTION_STATIC_STORAGE = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


# -- leaflet text and admin forms ------------------------------------------------------------


def section_text(**overrides):
    """Plain text for every section of a leaflet, with `overrides` for some."""
    from procedures.sections import SECTIONS

    text = {s.field: f"Plain words about {s.heading.lower()}" for s in SECTIONS}
    text.update(overrides)
    return text


def admin_form_data(version, **changes):
    """What the admin's change form posts for `version`, with `changes` typed in."""
    from procedures.sections import SECTIONS

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


def through_the_front(path, **environ):
    """GET `path` from the portal's WSGI application, as gunicorn calls it. Returns (status,
    headers, body, whether Django's handler ran: it sends request_started for every request)."""
    from wsgiref.util import setup_testing_defaults

    from ir_portal.wsgi import application

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_HOST": "testserver", **environ}
    setup_testing_defaults(environ)
    answer, django_ran = {}, []

    def started(**kwargs):
        django_ran.append(True)

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    request_started.connect(started)
    try:
        body = application(environ, start_response)
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()  # what a WSGI server does: Django's request_finished
    finally:
        request_started.disconnect(started)
    return answer["status"], answer["headers"], content, bool(django_ran)


def empty_the_database():
    """flush, as a restore test needs, inside the test's transaction. PostgreSQL will not
    TRUNCATE tables with foreign-key checks still deferred, so run those checks first."""
    from django.core.management import call_command
    from django.db import connection

    connection.check_constraints()
    call_command("flush", interactive=False, verbosity=0)


def public_urls():
    """Every public page of the library in the database: lists, each body area, department
    and leaflet, and each leaflet's print view."""
    from procedures.models import Category, Department, Procedure

    urls = [
        reverse("procedures:home"),
        reverse("procedures:list"),
        reverse("procedures:departments"),
        reverse("procedures:glossary"),
        reverse("procedures:search"),
        reverse("procedures:search") + "?q=kidney",
        reverse("procedures:search") + "?q=nothing-matches-this",
    ]
    urls += [c.get_absolute_url() for c in Category.objects.all()]
    urls += [d.get_absolute_url() for d in Department.objects.all()]
    for procedure in Procedure.objects.all():
        urls += [procedure.get_absolute_url(), reverse("procedures:leaflet_print", args=[procedure.slug])]
    return urls


# -- the leaflet library, loaded once and copied into each test that needs it ----------------
#
# Loading content/ renders, sanitises, measures and indexes every leaflet: more than a second
# for the 29 of them. So each library is loaded once per session, in a transaction that is
# rolled back, and the rows it wrote are kept; a test that needs the library gets those rows
# copied into its own database in a few milliseconds. Plain SQL both ways, so the copy is
# exact (no save(), signals or auto_now) on SQLite and PostgreSQL alike.

# The small library: enough for a test that needs "a library" rather than all of it. A leaflet
# with an Arabic translation (nephrostomy), one without (tumour-embolisation), the last file in
# A to Z order (vertebroplasty), one department offering all three, and the whole glossary.
SMALL_LEAFLETS = ("nephrostomy", "tumour-embolisation", "vertebroplasty")
SMALL_TRANSLATIONS = {"ar": ("nephrostomy",)}
SMALL_DEPARTMENT = "northgate-ir"


def write_small_library(folder, source=None):
    """Copy the small library's files out of the real library (settings.CONTENT_DIR), so it is
    always in the current content format; departments.toml keeps one department, offering only
    the leaflets copied."""
    from procedures.content_files import dump_toml_tables

    source = Path(source or settings.CONTENT_DIR)
    folder = Path(folder)
    (folder / "leaflets").mkdir(parents=True)
    for path in source.glob("*.toml"):  # categories, glossary and any shared rules
        shutil.copy(path, folder / path.name)
    for slug in SMALL_LEAFLETS:
        shutil.copy(source / "leaflets" / f"{slug}.md", folder / "leaflets")
    for language, slugs in SMALL_TRANSLATIONS.items():
        (folder / "translations" / language).mkdir(parents=True)
        for slug in slugs:
            shutil.copy(source / "translations" / language / f"{slug}.md", folder / "translations" / language)
    with open(source / "departments.toml", "rb") as file:
        departments = [d for d in tomllib.load(file)["department"] if d["slug"] == SMALL_DEPARTMENT]
    for department in departments:
        department["procedures"] = [slug for slug in department["procedures"] if slug in SMALL_LEAFLETS]
    dump_toml_tables(folder / "departments.toml", "department", departments)
    return folder


def _tables(using):
    """(table, primary key column, columns) of every model's table, auto-created many-to-many
    tables included."""
    existing = set(connections[using].introspection.table_names())
    out = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table in existing:
            out.append((meta.db_table, meta.pk.column, [f.column for f in meta.local_concrete_fields]))
    return out


def _rows(cursor, table, pk, columns, quote):
    cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")
    return {row[columns.index(pk)]: row for row in cursor.fetchall()}


def rows_written_by(action, using=DEFAULT_DB_ALIAS):
    """Run `action` in a transaction that is then rolled back, and return the rows it added:
    [(table, columns, rows)], for copy_rows() to put into a test's database."""
    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        tables = _tables(using)
        before = {table: _rows(cursor, table, pk, columns, quote) for table, pk, columns in tables}
        action()
        written = []
        for table, pk, columns in tables:
            old, now = before[table], _rows(cursor, table, pk, columns, quote)
            changed = [key for key, row in old.items() if now.get(key) != row]
            if changed:  # copying added rows would not reproduce this: say so, loudly
                raise RuntimeError(
                    f"{table}: rows {changed[:5]} changed; rows_written_by copies new rows only"
                )
            added = [row for key, row in now.items() if key not in old]
            if added:
                written.append((table, columns, added))
        transaction.set_rollback(True, using=using)
    return written


def copy_rows(written, using=DEFAULT_DB_ALIAS):
    """Insert rows from rows_written_by() into the current database, as one transaction (the
    foreign keys are checked at its end), and move PostgreSQL's id sequences past them."""
    from procedures.caching import forget_library_state, library_changed

    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for table, columns, rows in written:
            row = f"({', '.join(['%s'] * len(columns))})"
            per_statement = max(1, 900 // len(columns))  # under SQLite's oldest limit of 999 values
            for start in range(0, len(rows), per_statement):
                batch = rows[start : start + per_statement]
                cursor.execute(
                    f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES "
                    + ", ".join([row] * len(batch)),
                    [value for values in batch for value in values],
                )
        tables = {table for table, _, _ in written}
        models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in tables]
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        # As after a real load: cached pages of an earlier copy of the same rows must not match.
        library_changed()
    forget_library_state()


# -- other processes: production settings, a database that is down ---------------------------


def run_django(code, tmp_path, **env):
    """Run code in a fresh Python process with production-like settings."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ir_portal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def run_with_the_database_down(code, tmp_path, department, static_root):
    """Run code in a fresh production-like process whose database refuses every connection,
    with `department`'s phone numbers in the outage contacts file and the static files
    collected in `static_root` (the collected_static fixture), as on a real server."""
    from django.test import override_settings

    from procedures.middleware import write_contacts_snapshot

    contacts = tmp_path / "contacts.json"
    with override_settings(OUTAGE_CONTACTS_FILE=contacts):
        write_contacts_snapshot([department])
    # Port 1 on loopback: nothing listens, so every connection is refused, as in an outage.
    result = run_django(
        code,
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:1/portal",
        IR_OUTAGE_CONTACTS_FILE=str(contacts),
        DJANGO_STATIC_ROOT=str(static_root),
    )
    assert result.returncode == 0, result.stderr
    return result


# -- the browser -----------------------------------------------------------------------------

PASSWORD = "a long test password 1"


def client_for(user):
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def record_csp_violations(page):
    """Chromium reports each thing the Content-Security-Policy blocked on the console."""
    seen = []
    page.on(
        "console",
        lambda message: (
            seen.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    return seen


@functools.cache
def _axe_script():
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def axe_violations(page):
    """axe-core's WCAG 2.2 AA violations on the current page, as readable lines."""
    page.evaluate(_axe_script())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def assert_accessible(page):
    """No WCAG 2.2 AA violation on the current page, naming the page when there is one."""
    violations = axe_violations(page)
    assert violations == [], f"{page.url}:\n" + "\n".join(violations)


def sign_in(page, site, username):
    from playwright.sync_api import expect

    page.context.clear_cookies()
    page.goto(site + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out"))
    ).to_be_visible()


def roles():
    """The Editors and Approvers groups. Migration 0003 makes them, but an earlier live-server
    test flushes the database (which brings back permissions, not groups), so make them again
    from the same table of roles when they are gone."""
    from importlib import import_module

    from django.contrib.auth.models import Group, Permission

    for name, codenames in import_module("procedures.migrations.0003_roles").ROLES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created and codenames:
            group.permissions.set(
                Permission.objects.filter(content_type__app_label="procedures", codename__in=codenames)
            )
