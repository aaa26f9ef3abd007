"""Loaded by pytest before Django reads its settings (see pytest.ini): settings refuse to
start without a secret key when DEBUG is off, which is how tests run."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-key-for-tests-only")
# The test client speaks plain HTTP; HTTPS redirects are tested by the deploy checks.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
