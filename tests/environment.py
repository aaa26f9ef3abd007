"""Loaded by pytest before Django reads its settings (see pytest.ini): settings refuse to
start without a secret key when DEBUG is off, which is how tests run."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-key-for-tests-only")
