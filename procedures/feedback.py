"""'Is this page useful?' on every leaflet: two buttons, then an optional comment after "No".

Plain forms, so it works without JavaScript. Nothing that identifies a person is stored:
the client address is only hashed into a short-lived count for flood control
(procedures/throttle.py). The forms are exempt from CSRF on purpose: there is no session or
account to protect, and a CSRF cookie would make every leaflet page uncacheable; the throttle is
the protection that matters.
"""

from django.core import signing
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import throttle
from .models import Feedback
from .views import _current_version

PER_CLIENT_PER_HOUR = 10
SITE_WIDE_PER_HOUR = 1000
COMMENT_MAX = 500
TOKEN_SALT = "procedures.feedback"
TOKEN_MAX_AGE = 60 * 60  # an hour to write a comment after pressing "No"


def _thanks(request, version, status=200, message=None):
    return render(
        request,
        "procedures/feedback_thanks.html",
        {"version": version, "procedure": version.procedure, "message": message},
        status=status,
    )


@csrf_exempt
@require_POST
def leave_feedback(request, slug):
    version = _current_version(slug)  # the version on the page: a translation's own
    answer = request.POST.get("useful")
    if answer not in ("yes", "no"):
        return redirect(version.procedure.get_absolute_url() + "#feedback")
    if throttle.too_many(request, "feedback", PER_CLIENT_PER_HOUR, SITE_WIDE_PER_HOUR):
        return _thanks(
            request,
            version,
            status=429,
            message=_("We have had a lot of feedback from you recently, so this answer was not saved."),
        )
    feedback = Feedback.objects.create(version=version, useful=answer == "yes")
    if feedback.useful:
        return _thanks(request, version)
    token = signing.dumps(feedback.pk, salt=TOKEN_SALT)
    return redirect(reverse("procedures:feedback_comment", args=[slug, token]))


@csrf_exempt
def comment(request, slug, token):
    try:
        pk = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        version = _current_version(slug)
        return _thanks(
            request, version, status=400, message=_("This comment form has expired. Your answer was saved.")
        )
    feedback = get_object_or_404(
        Feedback.objects.select_related("version__procedure"), pk=pk, version__procedure__slug=slug
    )
    version = feedback.version
    error = None
    if request.method == "POST":
        text = "".join(ch for ch in request.POST.get("comment", "") if ch.isprintable() or ch == "\n").strip()
        if len(text) > COMMENT_MAX:
            error = _("Please keep your comment under %(limit)s characters (it has %(length)s).") % {
                "limit": COMMENT_MAX,
                "length": len(text),
            }
        else:
            # Only the first comment is kept, so a shared link cannot rewrite it.
            if text and not feedback.comment:
                feedback.comment = text
                feedback.save(update_fields=["comment"])
            return _thanks(request, version)
    return render(
        request,
        "procedures/feedback_comment.html",
        {
            "version": version,
            "procedure": version.procedure,
            "error": error,
            "comment_max": COMMENT_MAX,
            "text": request.POST.get("comment", ""),
        },
    )
