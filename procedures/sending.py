"""Sending an information prescription's link to a patient: by email now, by SMS once a trust
plugs in its own text-message service. Never required: the printout and the QR code work alone.

The address or number a member of staff types is used for one message and then forgotten: it
is not saved and not logged (the form shows it back only when it must be corrected).

Senders are listed in settings.PRESCRIPTION_SENDERS (environment IR_PRESCRIPTION_SENDERS,
dotted paths, comma-separated). Each is a class like `EmailSender`:

    class GovNotifySms(Sender):
        name = "sms"                                   # unique, in form field names
        label = "Send by text message"                 # the button staff press
        field = forms.CharField(label="Mobile phone number", max_length=20, ...)
        def send(self, to, subject, text):             # `to`: the field's cleaned value
            ...                                        # call the service; raise SendFailed to say it failed

No SMS sender is shipped: each trust has its own contract (GOV.UK Notify, a local gateway).
`text` is short enough for one or two text messages; `subject` is for email.
"""

import copy
import logging

from django import forms
from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class SendFailed(Exception):
    """The message could not be sent; the text is shown to staff as it is."""


class Sender:
    name = ""
    label = ""
    field = None

    def send(self, to, subject, text):
        raise NotImplementedError


class EmailSender(Sender):
    """Through Django's email settings (DJANGO_EMAIL_HOST…; the console on a laptop)."""

    name = "email"
    label = _("Send by email")
    field = forms.EmailField(
        label=_("The patient's email address"),
        max_length=254,
        help_text=_("Used once to send the link. It is not saved."),
    )

    def send(self, to, subject, text):
        try:
            send_mail(subject, text, None, [to])
        except Exception as problem:  # SMTP errors come in many classes
            # The address is left out of the log on purpose.
            logger.warning("Could not send a prescription email: %s", type(problem).__name__)
            message = _("The email could not be sent. Check the address, or print the page instead.")
            raise SendFailed(message) from None


def senders():
    """The configured senders, in the order of the setting."""
    return [import_string(path)() for path in settings.PRESCRIPTION_SENDERS]


def sender_named(name):
    return next((sender for sender in senders() if sender.name == name), None)


class SendForm(forms.Form):
    """One sender's address box."""

    def __init__(self, sender, *args, **kwargs):
        super().__init__(*args, prefix=sender.name, **kwargs)
        self.sender = sender
        self.fields["to"] = copy.deepcopy(sender.field)  # forms must not share a field
