"""Site-wide promises: every public page works, has one h1 and a language, and failures
are explained in plain words."""

import itertools
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from procedures.models import Procedure
from tests.helpers import (
    SMALL_LEAFLETS,
    public_urls,
    run_django,
    run_with_the_database_down,
    write_small_library,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_the_project_passes_djangos_checks_and_its_migrations_match_the_models():
    """What `manage.py check` and `makemigrations --check` would say before a deploy: a model
    changed without its migration would leave the next `migrate` behind the code."""
    call_command("check", fail_level="WARNING")
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


def test_every_public_page_answers_with_one_h1_and_a_language(client, library):
    urls = public_urls()
    assert len(urls) > 60
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert len(re.findall(r"<h1[\s>]", html)) == 1, url
        assert re.search(r'<html lang="en-GB"', html), url
        # Headings go down one level at a time (issue 15: /departments/ went from h1 to h3),
        # so a screen reader's list of headings reads as an outline.
        levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]
        skips = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
        assert not skips, (url, skips)


def test_unknown_addresses_get_a_helpful_404(client, small_library):
    for url in [
        "/no-such-page/",
        "/procedures/no-such-leaflet/",
        "/procedures/nephrostomy/v/99/",
        "/departments/nowhere/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "We cannot find that page" in response.content.decode()
        assert "Procedures A to Z" in response.content.decode()


def test_a_server_error_shows_a_calm_page_without_details(rf):
    from django.urls import get_resolver

    handler = get_resolver().resolve_error_handler(500)
    response = handler(rf.get("/procedures/nephrostomy/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Sorry, something went wrong" in body
    assert "999" in body and "NHS 111" in body


def test_sitemap_lists_every_published_leaflet(client, small_library):
    body = client.get("/sitemap.xml").content.decode()
    for procedure in Procedure.objects.all():
        assert f"/procedures/{procedure.slug}/</loc>" in body


def test_healthz_checks_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


@pytest.mark.own_database
def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_django("import django; django.setup()", tmp_path, DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.own_database
def test_demo_admin_is_refused_when_debug_is_off(tmp_path):
    result = run_django(
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('create_demo_admin')",
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    assert result.returncode != 0
    assert "Refusing to create a demo account" in result.stderr


@pytest.mark.own_database
def test_with_the_database_down_patients_get_phone_numbers_not_an_error(
    tmp_path, department, collected_static
):
    result = run_with_the_database_down(
        "import django, json; django.setup(); from django.test import Client; c = Client(); "
        "pages = [c.get(u) for u in ['/', '/procedures/nephrostomy/', '/departments/']]; "
        "print(json.dumps([[p.status_code, p.content.decode()] for p in pages]))",
        tmp_path,
        department,
        collected_static,
    )
    for status, body in json.loads(result.stdout):
        assert status == 503
        assert "unavailable for a short time" in body
        assert "01632 960 555" in body and "NHS 111" in body and "999" in body
        # Out of hours the switchboard comes first, NHS 111 only if nobody answers (issue 16).
        assert body.index("01632 960 000") < body.index("NHS 111")
        assert "Traceback" not in body and "OperationalError" not in body


@pytest.mark.own_database
def test_dev_run_makes_no_demo_account_when_debug_is_off(tmp_path):
    """./dev run with DJANGO_DEBUG=0 sets up a new database, loads the library and serves, but
    never creates a demo account. The small library (IR_CONTENT_DIR) keeps the load short."""
    import hashlib
    import signal
    import socket
    import sqlite3
    import threading
    import time

    # ./dev run installs the requirements when .venv was not made from these: a test must not.
    stamp = ROOT / ".venv" / ".requirements.txt.sha256"
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        message = "./dev run would install requirements.txt first: run ./dev test once"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = tmp_path / "dev.sqlite3"
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "dev-run-test-" + "k" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "IR_OUTAGE_CONTACTS_FILE": str(tmp_path / "contacts.json"),
        "IR_CONTENT_DIR": str(write_small_library(tmp_path / "content")),
    }
    process = subprocess.Popen(
        ["./dev", "run", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if any("Quit the server" in line for line in lines):
                break
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        reader.join(timeout=5)
    output = "".join(lines)
    assert "Quit the server" in output, output[-3000:]  # it got as far as serving
    assert "DJANGO_DEBUG is off, so no demo account was made" in output
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT username FROM auth_user").fetchall() == []
        assert connection.execute("SELECT COUNT(*) FROM procedures_procedure").fetchone()[0] == len(
            SMALL_LEAFLETS
        )
