"""Every change of a leaflet version's status, in one place and in one order.

    permission -> state check under a row lock -> change -> event (with the text's hash)
    -> search index -> library generation (page cache keys)

The admin, the loader (load_content), the backup restore (import_content) and the commands
call these functions; nothing else moves a status. The models keep the data and the
invariants that hold whoever calls: a version that patients were given never changes its
text, and the database allows one live and one draft per leaflet and language.

Locks: every step locks the procedure row, then the version row, inside one transaction, and
reads the version again under the lock. Two approvers pressing "Approve" at once (or one
double click) are therefore taken one after the other, and the second finds the version
already published: it changes nothing and is told so (AlreadyDone), so version numbers are
never skipped and the record never says "published -> superseded -> published". The order is
always procedure then version, so two steps never wait for each other. (SQLite has no row
locks; it allows one writer at a time, which gives the same result for a laptop.)

Review freezes the text: the approver approves a hash of the exact text they read
(LeafletVersion.content_hash), and publishing refuses if the text is any different. Saving a
version in review sends it back to draft (logged), and every status change moves the
revision on, so an edit form opened before "Send for review" is stopped as a conflict.

`by=None` is the system itself (content files under version control); every person passes
`by=request.user`.
"""

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .caching import library_changed
from .models import LeafletVersion, Procedure, WorkflowEvent, translation_languages

Status = LeafletVersion.Status


class WorkflowError(ValidationError):
    """A step refused, with a message for the person who asked."""


class AlreadyDone(WorkflowError):
    """The step had already been taken (a second approver, a double click): nothing changed."""


class DraftExists(WorkflowError):
    """The leaflet already has a draft in this language; `draft` is it, to carry on with."""

    def __init__(self, draft):
        super().__init__(_("A draft of this leaflet already exists: carry on with it."))
        self.draft = draft


# -- the steps ------------------------------------------------------------------------------


def create_draft(version, by=None, comment="Draft created"):
    """Save a new, unsaved `version` as the leaflet's draft (the admin's Add form, a draft in
    the content files)."""
    _require(by, "add_leafletversion", _("Only editors can start a draft."))
    with transaction.atomic():
        _lock_procedure(version.procedure_id)
        _refuse_second_draft(version.procedure_id, version.language)
        version.status = Status.DRAFT
        version.author = version.author or by
        version.save()
        _log(version, by, "", comment)
    return version


def save_draft(version, by=None):
    """Save an editor's changes to a draft. A version in review goes back to draft: the
    approver must see, and approve, the text as it is now."""
    _require(by, "change_leafletversion", _("Only editors can change a draft."))
    with transaction.atomic():
        stored = _lock(version)
        if stored.status not in LeafletVersion.EDITABLE_STATUSES:
            raise WorkflowError(
                _(
                    "This version has been published and can no longer change. "
                    "Start a new draft to make changes."
                )
            )
        was = stored.status
        version.status = Status.DRAFT
        version.save()
        if was == Status.IN_REVIEW:
            _log(version, by, was, "Edited during review, so it goes back to draft for another review")
    return version


def submit_for_review(version, by=None, comment=""):
    _require(by, "change_leafletversion", _("Only editors can send a draft for review."))
    with transaction.atomic():
        stored = _lock(version)
        if stored.status == Status.IN_REVIEW:
            raise AlreadyDone(_("This draft is already waiting for review."))
        if stored.status != Status.DRAFT:
            raise WorkflowError(_("Only a draft can be sent for review."))
        _require_complete(stored, _("sending it for review"))
        _move(version, stored, Status.IN_REVIEW, by, comment)


def return_to_draft(version, by=None, comment=""):
    _require(by, "approve_leafletversion", _("Only approvers can send a draft back."))
    if not comment.strip():
        raise WorkflowError(_("Say what needs to change, so the editor knows what to do."))
    with transaction.atomic():
        stored = _lock(version)
        if stored.status != Status.IN_REVIEW:
            raise WorkflowError(_("Only a version in review can go back to draft."))
        _move(version, stored, Status.DRAFT, by, comment)


def publish(version, by=None, comment="", approved_hash=None):
    """Make this version the live one; the previous live version becomes superseded.

    A person approves the text they read: `approved_hash` is the version's content_hash()
    when it was shown to them, and nothing is published if the text has changed since.
    """
    _require(by, "approve_leafletversion", _("Only approvers can publish a leaflet."))
    with transaction.atomic():
        stored = _lock(version)
        if stored.status in (Status.PUBLISHED, Status.SUPERSEDED):
            event = stored.workflow_events.filter(to_status=Status.PUBLISHED).select_related("actor").last()
            raise AlreadyDone(
                _(
                    "Version %(number)s was already published by %(who)s at %(time)s. "
                    "Nothing else was changed."
                )
                % {
                    "number": stored.number,
                    "who": _name(event.actor if event else None),
                    "time": timezone.localtime(stored.published_at).strftime("%H:%M:%S on %d %B %Y"),
                }
            )
        if stored.status not in LeafletVersion.EDITABLE_STATUSES:
            raise WorkflowError(_("This version has already been published or retired."))
        if by is not None:
            if stored.status != Status.IN_REVIEW:
                raise WorkflowError(_("Send the draft for review before it is approved."))
            if approved_hash != stored.content_hash():
                raise WorkflowError(
                    _(
                        "The text has changed since you read it, so it was not "
                        "published. Preview it again, then approve what you read."
                    )
                )
            if _same_person(by, stored.contributor_ids()):
                raise PermissionDenied(
                    _("You wrote or edited this draft, so another approver must approve it.")
                )
        _require_complete(stored, _("publishing"))
        number = _next_number(stored.procedure_id, stored.language)
        _supersede_live(stored, by)
        _move(
            version,
            stored,
            Status.PUBLISHED,
            by,
            comment,
            number=number,
            published_at=timezone.now(),
            approver=by,
        )
        _patients_see_a_change(stored.procedure_id)


def publish_text(version, number, by=None, comment="Published from the content files"):
    """Enter a new, unsaved `version` straight into the record as the live one, with
    `number` (load_content: the files carry their version numbers; a nurse's draft of the
    same leaflet stays a draft)."""
    _require(by, "approve_leafletversion", _("Only approvers can publish a leaflet."))
    with transaction.atomic():
        _lock_procedure(version.procedure_id)
        highest = _next_number(version.procedure_id, version.language) - 1
        if number <= highest:
            raise WorkflowError(f"Version {number} is not after the latest version, {highest}.")
        _require_complete(version, "publishing")
        _supersede_live(version, by)
        _enter_live(version, by, comment, number=number)
        _patients_see_a_change(version.procedure_id)
    return version


def withdraw(version, by=None, comment=""):
    _require(by, "withdraw_leafletversion", _("Only approvers can withdraw a leaflet."))
    with transaction.atomic():
        stored = _lock(version)
        if stored.status == Status.WITHDRAWN:
            raise AlreadyDone(_("This leaflet was already withdrawn."))
        if stored.status != Status.PUBLISHED:
            raise WorkflowError(_("Only the live version can be withdrawn."))
        _move(version, stored, Status.WITHDRAWN, by, comment, retired_at=timezone.now())
        _patients_see_a_change(stored.procedure_id)


def record_review(version, by=None):
    """An approver confirms the live text is still right: a new version with the same text
    and new review dates, so the record shows who reviewed it and when. The reviewer did not
    write this text, so the own-draft rule does not apply."""
    _require(by, "approve_leafletversion", _("Only approvers can record a review."))
    with transaction.atomic():
        stored = _lock(version)
        if stored.status != Status.PUBLISHED:
            raise WorkflowError(_("Only the live version can be reviewed."))
        review = stored._copy(author=stored.author)
        number = _next_number(stored.procedure_id, stored.language)
        _move(
            version, stored, Status.SUPERSEDED, by, "Replaced by a newer version", retired_at=timezone.now()
        )
        _enter_live(review, by, "Reviewed, no change", number=number)
        _patients_see_a_change(stored.procedure_id)
    return review


def start_new_draft(version, by=None, **changes):
    """A new draft carrying this version's content (or `changes`), for editing a published
    leaflet or restoring an older text."""
    _require(by, "add_leafletversion", _("Only editors can start a draft."))
    with transaction.atomic():
        _lock_procedure(version.procedure_id)
        _refuse_second_draft(version.procedure_id, version.language)
        draft = version._copy(author=by, **changes)
        draft.save()
        label = f"version {version.number}" if version.number else "a draft"
        _log(draft, by, "", f"Started from {label}")
    return draft


def start_translation(english, language, by=None):
    """A draft translating this live English version into `language`.

    It starts from the latest numbered translation in that language when there is one, for
    the translator to bring up to date, or else from this English text, to be written over
    section by section. Either way it records this version as its source.
    """
    _require(by, "add_leafletversion", _("Only editors can start a translation."))
    if language not in translation_languages():
        raise WorkflowError(_("'%(language)s' is not one of the site's languages.") % {"language": language})
    with transaction.atomic():
        english = _lock(english)
        if english.is_translation or english.status != Status.PUBLISHED:
            raise WorkflowError(_("Translate the live English version."))
        _refuse_second_draft(english.procedure_id, language)
        previous = (
            LeafletVersion.objects.filter(procedure_id=english.procedure_id, language=language)
            .exclude(number=None)
            .order_by("-number")
            .first()
        )
        if previous:
            draft = previous._copy(author=by, translation_of=english)
        else:
            draft = english._copy(
                author=by, language=language, translation_of=english, title="", summary="", lay_names=""
            )
        draft.save()
        _log(
            draft,
            by,
            "",
            f"Translation started from English version {english.number}"
            + (f" and {language} version {previous.number}" if previous else ""),
        )
    return draft


def enter_record(version, status, approver=None, created_at=None, comment="Restored from a backup", **dates):
    """A version of a backup, entered as it was: its own status, number and dates (import_content
    into an empty database). The caller re-indexes once everything is in."""
    version.status, version.approver = status, approver
    for field, value in dates.items():
        setattr(version, field, value)
    version.save(entering_record=True)
    if created_at:  # auto_now_add has just set it to now
        LeafletVersion.objects.filter(pk=version.pk).update(created_at=created_at)
        version.created_at = created_at
    _log(version, None, "", comment + (f"; approved by {approver.get_username()}" if approver else ""))
    return version


def reindex_all():
    """Search index and page cache after many records changed at once (import_content)."""
    from .search import index_procedures

    index_procedures(Procedure.objects.all(), LeafletVersion.objects.all())
    library_changed()


# -- the parts --------------------------------------------------------------------------------


def _require(user, codename, message):
    """The workflow's own check: the admin hides buttons, this refuses the action."""
    if user is not None and not user.has_perm(f"procedures.{codename}"):
        raise PermissionDenied(message)


def _lock_procedure(procedure_id):
    Procedure.objects.select_for_update().filter(pk=procedure_id).first()


def _lock(version):
    """The version as stored, read under a lock on its procedure and itself."""
    _lock_procedure(version.procedure_id)
    return LeafletVersion.objects.select_for_update().get(pk=version.pk)


def _refuse_second_draft(procedure_id, language):
    existing = LeafletVersion.objects.drafts().filter(procedure_id=procedure_id, language=language).first()
    if existing:
        raise DraftExists(existing)


def _require_complete(version, action):
    missing = [s.heading for s in version.missing_sections()] + version.missing_details()
    if missing:
        raise WorkflowError(
            _("Fill in every section before %(action)s. Empty: %(missing)s")
            % {"action": action, "missing": ", ".join(missing)}
        )


def _same_person(user, contributor_ids):
    """Whether `user` is, or was made by, someone who wrote or saved the draft: an account
    minted by an author to approve their own text is still that author."""
    if user.pk in contributor_ids:
        return True
    return any(entry.user_id in contributor_ids for entry in account_made_by(user))


def account_made_by(user):
    """The admin log's record of who made this account (empty for accounts made from the
    command line, such as the first superuser)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(user.pk),
        action_flag=ADDITION,
    )


def _next_number(procedure_id, language):
    numbers = LeafletVersion.objects.filter(procedure_id=procedure_id, language=language)
    return (numbers.aggregate(Max("number"))["number__max"] or 0) + 1


def _supersede_live(version, by):
    live = LeafletVersion.objects.published().filter(
        procedure_id=version.procedure_id, language=version.language
    )
    for previous in live:
        _move(
            previous,
            previous,
            Status.SUPERSEDED,
            by,
            "Replaced by a newer version",
            retired_at=timezone.now(),
        )


def _move(version, stored, to, by, comment="", **changes):
    """Change the status (and its dates) of the stored row and of the caller's copy. The
    revision moves on too, so an edit form opened before this step cannot save over it."""
    was = stored.status
    changes.update(status=to, revision=stored.revision + 1)
    LeafletVersion.objects.filter(pk=stored.pk).update(**changes)
    for copy in (version, stored):
        for field, value in changes.items():
            setattr(copy, field, value)
    _log(stored, by, was, comment)


def _enter_live(version, by, comment, number):
    version.status, version.number = Status.PUBLISHED, number
    version.published_at, version.approver = timezone.now(), by
    try:
        with transaction.atomic():
            version.save(entering_record=True)
    except IntegrityError:
        raise WorkflowError(_("Another version was published at the same moment. Try again.")) from None
    _log(version, by, "", comment)


def _log(version, by, was, comment):
    WorkflowEvent.objects.create(
        version=version,
        actor=by,
        from_status=was,
        to_status=version.status,
        comment=comment,
        content_hash=version.content_hash(),
    )


def _patients_see_a_change(procedure_id):
    Procedure.objects.get(pk=procedure_id).refresh_search_document()
    library_changed()


def _name(user):
    return (user.get_full_name() or user.get_username()) if user else _("the system")
