"""Are the interface translations complete? Checked the way a release would make them.

`check_catalogues()` copies the code and templates to a scratch folder, runs makemessages
there for every shipped language (so the real locale/ files are never rewritten by a check)
and asks gettext's own tools what is missing: a msgid with no translation, a fuzzy entry
(msgmerge's guess after an English string changed), or a compiled .mo file older than its
.po. It then compiles the scratch catalogues (compilemessages) to prove they build.
"""

import gettext
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import to_locale

# What makemessages needs to see every marked string: the code and the templates.
SOURCES = ("manage.py", "ir_portal", "procedures", "templates", "locale")
TOOLS = ("xgettext", "msgmerge", "msgfmt", "msgattrib")


@dataclass
class CatalogueReport:
    language: str
    translated: int = 0
    problems: list = field(default_factory=list)


def shipped_languages():
    """The locale names of every language but English (en-gb is the source language)."""
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def missing_tools():
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def check_catalogues(base_dir=None):
    base_dir = Path(base_dir or settings.BASE_DIR)
    with tempfile.TemporaryDirectory(prefix="catalogues-") as scratch:
        scratch = Path(scratch)
        for name in SOURCES:
            source = base_dir / name
            if source.is_dir():
                shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, scratch / name)
        languages = shipped_languages()
        _manage(scratch, "makemessages", "--no-obsolete", *[f"--locale={code}" for code in languages])
        reports = [_report(base_dir, scratch, code) for code in languages]
        _manage(scratch, "compilemessages", *[f"--locale={code}" for code in languages])
    return reports


def _manage(folder, *arguments):
    env = {**os.environ, "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "catalogue-check"}
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=folder, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {arguments[0]} failed:\n{result.stdout}{result.stderr}")


def _report(base_dir, scratch, code):
    report = CatalogueReport(code)
    relative = Path("locale") / to_locale(code) / "LC_MESSAGES"
    fresh = scratch / relative / "django.po"
    if not fresh.exists():
        report.problems.append(f"no catalogue: {relative / 'django.po'} does not exist")
        return report
    for flag, what in (("--untranslated", "not translated"), ("--only-fuzzy", "fuzzy (check and confirm)")):
        listed = subprocess.run(
            ["msgattrib", flag, "--no-obsolete", "--no-wrap", str(fresh)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        report.problems += [f"{what}: {msgid}" for msgid in _msgids(listed)]
    statistics = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(fresh)],
        capture_output=True,
        text=True,
    )
    if statistics.returncode:
        report.problems.append(f"msgfmt --check: {statistics.stderr.strip()}")
    report.translated = int(statistics.stderr.split()[0]) if statistics.stderr[:1].isdigit() else 0
    report.problems += _stale_compiled(base_dir / relative, scratch)
    return report


def _msgids(po_text):
    """The msgids of a .po file's entries (header excluded), one line each."""
    ids, current = [], None
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current = [line[6:].strip().strip('"')]
        elif current is not None and line.startswith('"'):
            current.append(line.strip().strip('"'))
        elif current is not None:
            text = "".join(current)
            if text:
                ids.append(text)
            current = None
    return ids


def _stale_compiled(folder, scratch):
    """The committed .mo must hold exactly the committed .po's translations."""
    po, mo = folder / "django.po", folder / "django.mo"
    if not mo.exists():
        return [f"{mo.relative_to(folder.parents[2])} is missing: run compilemessages"]
    fresh_mo = scratch / "committed.mo"
    subprocess.run(["msgfmt", "-o", str(fresh_mo), str(po)], check=True, capture_output=True)
    with fresh_mo.open("rb") as expected, mo.open("rb") as committed:
        same = gettext.GNUTranslations(expected)._catalog == gettext.GNUTranslations(committed)._catalog
    return [] if same else [f"{mo.relative_to(folder.parents[2])} is older than its .po: run compilemessages"]
