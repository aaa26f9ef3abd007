import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from procedures import workflow
from procedures.models import LeafletVersion, PublishedVersionLocked, add_months

pytestmark = pytest.mark.django_db


def test_a_published_version_cannot_be_saved_again(published):
    published.risks = "Changed after publishing"
    with pytest.raises(PublishedVersionLocked):
        published.save()
    published.refresh_from_db()
    assert published.risks != "Changed after publishing"


def test_a_stale_copy_of_a_published_version_cannot_be_saved(make_procedure, make_draft):
    draft = make_draft(make_procedure())
    stale = LeafletVersion.objects.get(pk=draft.pk)
    workflow.publish(draft)
    stale.risks = "Sneaky edit through an old copy"
    with pytest.raises(PublishedVersionLocked):
        stale.save()


def test_a_version_cannot_be_created_as_published(make_procedure):
    with pytest.raises(PublishedVersionLocked):
        LeafletVersion.objects.create(procedure=make_procedure(), status="published")


def test_a_published_version_cannot_be_deleted(published):
    with pytest.raises(PublishedVersionLocked):
        published.delete()
    assert LeafletVersion.objects.filter(pk=published.pk).exists()


def test_publishing_supersedes_the_previous_version(published, make_draft):
    second = workflow.start_new_draft(published)
    second.risks = "Updated risk figures"
    second.save()
    workflow.publish(second)
    published.refresh_from_db()
    assert published.status == "superseded"
    assert published.retired_at is not None
    assert second.status == "published"
    assert list(LeafletVersion.objects.live("en")) == [second]


def test_version_numbers_count_per_procedure(make_procedure, make_draft):
    kidney, liver = make_procedure("kidney"), make_procedure("liver")
    numbers = []
    for procedure in (kidney, liver, kidney, kidney, liver):
        version = make_draft(procedure)
        workflow.publish(version)
        numbers.append((procedure.slug, version.number))
    assert numbers == [("kidney", 1), ("liver", 1), ("kidney", 2), ("kidney", 3), ("liver", 2)]


def test_drafts_have_no_number_until_published(make_procedure, make_draft):
    draft = make_draft(make_procedure())
    assert draft.number is None
    workflow.publish(draft)
    assert draft.number == 1


def test_only_one_version_can_be_live(published, make_draft):
    other = make_draft(published.procedure)
    with pytest.raises(IntegrityError):
        LeafletVersion.objects.filter(pk=other.pk).update(status="published", number=9)


def test_editing_a_published_leaflet_starts_a_draft_with_its_text(published):
    draft = workflow.start_new_draft(published)
    assert draft.status == "draft"
    assert draft.pk != published.pk
    assert draft.risks == published.risks
    assert draft.number is None


def test_a_leaflet_with_an_empty_section_cannot_be_published(make_procedure, make_draft):
    draft = make_draft(make_procedure(), risks="")
    with pytest.raises(ValidationError, match="What are the risks"):
        workflow.publish(draft)
    with pytest.raises(ValidationError, match="What are the risks"):
        workflow.submit_for_review(draft)


def test_withdrawing_takes_the_leaflet_away_from_patients(published):
    workflow.withdraw(published)
    assert not LeafletVersion.objects.live("en").exists()


def test_next_review_defaults_to_36_months_after_last_review(make_procedure, make_draft):
    draft = make_draft(make_procedure())
    assert draft.next_review_due == datetime.date(2029, 11, 1)


def test_next_review_follows_the_procedures_interval(make_procedure, make_draft):
    draft = make_draft(make_procedure(review_interval_months=12))
    assert draft.next_review_due == datetime.date(2027, 11, 1)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2024, 2, 29), 12, datetime.date(2025, 2, 28)),
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2026, 11, 1), 36, datetime.date(2029, 11, 1)),
        (datetime.date(2026, 12, 15), 1, datetime.date(2027, 1, 15)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_due_for_review_lists_live_versions_near_their_date(published, make_procedure, make_draft):
    today = datetime.date(2029, 9, 1)
    assert not LeafletVersion.objects.due_for_review(today=today).exists()
    within = LeafletVersion.objects.due_for_review(within=datetime.timedelta(days=90), today=today)
    assert list(within) == [published]
    make_draft(make_procedure("never-published"))  # drafts are not "due"
    assert LeafletVersion.objects.due_for_review(today=datetime.date(2030, 1, 1)).count() == 1


def test_readability_is_measured_on_save(published):
    assert published.reading_ease is not None and published.reading_grade is not None


def test_bulk_updates_and_deletes_cannot_touch_published_text(published):
    with pytest.raises(PublishedVersionLocked):
        LeafletVersion.objects.all().update(risks="Bulk rewrite")
    with pytest.raises(PublishedVersionLocked):
        LeafletVersion.objects.all().delete()
    published.refresh_from_db()
    assert published.risks != "Bulk rewrite"
