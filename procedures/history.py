"""Comparing versions of a leaflet, section by section, for editors and approvers.

A "version" here is either a LeafletVersion (a draft, or one that patients were given) or a
saved state of a draft from django-simple-history. Both carry the same section fields, so
one diff serves both.
"""

import difflib
from dataclasses import dataclass

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import LeafletVersion
from .sections import SECTIONS

COMPARED_FIELDS = [(s.field, s.heading) for s in SECTIONS] + [("sources", "Sources")]


@dataclass(frozen=True)
class Choice:
    key: str  # "v<pk>" for a version, "h<history_id>" for a saved state of a draft
    label: str
    record: object


def choices_for(procedure):
    """Every version of the leaflet and every saved state of its drafts, newest first."""
    versions = list(LeafletVersion.objects.filter(procedure=procedure).select_related("approver"))
    out = []
    for version in versions:
        if version.number:
            when = (
                timezone.localtime(version.published_at).strftime("%d %b %Y") if version.published_at else ""
            )
            label = f"Version {version.number} ({version.get_status_display().lower()}, {when})"
        else:
            label = f"Current draft ({version.get_status_display().lower()})"
        if version.is_translation:  # versions are numbered per language
            label = f"[{version.language}] {label}"
        out.append(Choice(f"v{version.pk}", label, version))
    saves = (
        LeafletVersion.history.filter(id__in=[v.pk for v in versions])
        .select_related("history_user")
        .order_by("-history_date")
    )
    for save in saves:
        who = save.history_user.get_username() if save.history_user else "system"
        when = timezone.localtime(save.history_date).strftime("%d %b %Y %H:%M")
        out.append(Choice(f"h{save.history_id}", f"Draft saved {when} by {who}", save))
    return out


def find(choices, key):
    return next((c for c in choices if c.key == key), None)


def _word_diff(old, new):
    """HTML with removed words in <del> and added words in <ins>; everything escaped."""
    old_words, new_words = old.split(), new.split()
    pieces = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(escape(" ".join(old_words[a1:a2])))
            continue
        if a2 > a1:
            pieces.append(f"<del>{escape(' '.join(old_words[a1:a2]))}</del>")
        if b2 > b1:
            pieces.append(f"<ins>{escape(' '.join(new_words[b1:b2]))}</ins>")
    return mark_safe(" ".join(pieces))


def section_diffs(older, newer):
    """[(heading, diff html)] for each section whose text differs."""
    changes = []
    for field, heading in COMPARED_FIELDS:
        before, after = getattr(older, field) or "", getattr(newer, field) or ""
        if before.strip() != after.strip():
            changes.append((heading, _word_diff(before, after)))
    return changes


def changed_headings(older, newer):
    return [heading for heading, _ in section_diffs(older, newer)]
