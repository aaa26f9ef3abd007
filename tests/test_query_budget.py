"""Every public page runs the same few SQL queries whether the library holds one leaflet or a
thousand: rendered from scratch at most BUDGET, served from the page cache one (the library
generation, which is in every cache key), a search included."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procedures import synthetic, throttle
from procedures.models import Department, Procedure
from tests.helpers import QUERY_BUDGET as BUDGET
from tests.helpers import reads_and_counts

pytestmark = pytest.mark.django_db


def public_pages():
    procedure = Procedure.objects.get(slug="synthetic-00001")
    department = Department.objects.get(slug="synthetic-unit-001")
    return {
        "home": reverse("procedures:home"),
        "A to Z": reverse("procedures:list"),
        "category": procedure.category.get_absolute_url(),
        "leaflet": procedure.get_absolute_url(),
        "archived version": reverse("procedures:leaflet_version", args=[procedure.slug, 1]),
        "print view": reverse("procedures:leaflet_print", args=[procedure.slug]),
        "QR check": reverse("procedures:check", args=[procedure.resource_number, 1]),
        "other formats form": reverse("procedures:request_format", args=[procedure.slug]),
        "departments": reverse("procedures:departments"),
        "department": department.get_absolute_url(),
        "glossary": reverse("procedures:glossary"),
        "search": reverse("procedures:search") + "?q=synthetic",  # found at both sizes
    }


def queries_per_page(client):
    """{page: (queries rendered, queries cached)}, asserting the budget on each. A new search
    also counts itself for flood control (procedures/throttle.py): those statements write,
    in a number that does not depend on the library, and come on top of the budget."""
    counts = {}
    for name, url in public_pages().items():
        cache.clear()
        with CaptureQueriesContext(connection) as rendering:
            response = client.get(url)
        assert response.status_code == 200, (name, url)
        reads, counting = reads_and_counts(rendering)
        assert reads <= BUDGET, (name, [q["sql"] for q in rendering.captured_queries])
        assert counting <= (throttle.STATEMENTS_AT_MOST if name == "search" else 0), name
        with CaptureQueriesContext(connection) as cached:
            assert client.get(url).content == response.content, name
        counts[name] = (reads, len(cached))
    return counts


def grow_to_a_thousand():
    synthetic.build(999, departments=20, glossary=200, versions=2)
    # The measured department offers every procedure; the measured category holds ~100.
    Department.objects.get(slug="synthetic-unit-001").procedures.set(Procedure.objects.all())


def test_public_pages_run_the_same_few_queries_with_1_and_1000_leaflets(client):
    synthetic.build(1, departments=1, glossary=1, versions=2)
    with_one = queries_per_page(client)

    grow_to_a_thousand()
    assert Procedure.objects.with_published_leaflet().count() == 1000
    with_a_thousand = queries_per_page(client)

    assert with_a_thousand == with_one
    for name, (_rendered, cached) in with_one.items():
        assert cached == 1, name  # the library generation; a search is kept like any page
    # And those few queries did list every one of them (built once: it is the slow part).
    html = client.get(reverse("procedures:list")).content.decode()
    assert html.count('class="card"') == 1000
    department = client.get(reverse("procedures:department", args=["synthetic-unit-001"]))
    assert department.content.decode().count("synthetic leaflet 0") == 1000
