"""The content check: what a reviewer would flag in content/, found before anyone loads it.

It reads the files, never the database, so it can run in CI or on a laptop with a fresh
checkout. It collects every problem rather than stopping at the first, because a writer fixing
a leaflet wants the whole list in one go. Printing is left to the management command.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import house_style
from .content_files import (
    PUNCTURES,
    SEDATIONS,
    TABLES,
    ContentError,
    file_lines,
    glossary_slug,
    line_of,
    name_problem,
    parse_leaflet,
    parse_translation,
)
from .markdown import image_problem
from .models import DEFAULT_REVIEW_MONTHS, add_months
from .readability import measure, plain_sentences
from .sections import SECTIONS, SECTIONS_BY_HEADING

# The service's procedure list: a patient sent to the portal for one of these must find it.
REQUIRED_LEAFLETS = (
    "image-guided-biopsy",
    "bone-biopsy",
    "nephrostomy",
    "antegrade-ureteric-stent",
    "drainage-of-fluid-collection",
    "percutaneous-biliary-drainage",
    "biliary-stent",
    "percutaneous-transhepatic-cholangiography",
    "cholecystostomy",
    "gallbladder-drain-internalisation",
    "percutaneous-gallstone-removal",
    "radiologically-inserted-gastrostomy",
    "gastrointestinal-stent",
    "tumour-embolisation",
    "selective-internal-radiation-therapy",
    "thermal-ablation",
    "cryoablation",
    "vertebroplasty",
    "lumbar-puncture",
    "epidural-steroid-injection",
    "nerve-root-block",
    "facet-joint-injection",
    "angioplasty-and-stenting",
    "endovascular-aneurysm-repair",
    "fistuloplasty",
    "ivc-filter",
    "embolisation-for-bleeding",
    "mechanical-thrombectomy",
    "carotid-stenting",
)

# Plain-English targets: ease 60 and grade 8 are a reading age of about 13, the usual aim for
# NHS patient information. A section may dip below 60 (a risks list needs long medical words)
# but below 50 it loses readers whatever the rest of the leaflet is like.
MIN_EASE = 60
MAX_GRADE = 8
MIN_SECTION_EASE = 50
MIN_SECTION_WORDS = 40  # fewer usually means a placeholder, not a section a patient can use
MIN_GLOSSARY_TERMS = 40

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)")
# What every department needs so a leaflet can give its contacts and the 24-hour route
# (PIF TICK; content/HOUSE_STYLE.md rule 8).
DEPARTMENT_CONTACTS = ("phone", "switchboard", "out_of_hours_route", "pals", "pharmacy_helpline")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int  # 0 when no single line is to blame
    message: str
    warning: bool = False

    def __str__(self):
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


@dataclass
class LeafletFigures:
    path: Path
    sections: list  # (Section, Readability) in reading order
    overall: object  # Readability of the whole leaflet


@dataclass
class Report:
    checked: int = 0
    translations: int = 0
    leaflets: list = field(default_factory=list)  # LeafletFigures, for leaflets that parsed
    problems: list = field(default_factory=list)

    @property
    def errors(self):
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self):
        return [p for p in self.problems if p.warning]


def check_library(content_dir, today):
    content_dir = Path(content_dir)
    report = Report()
    categories = _tables(content_dir, TABLES["categories"], report)
    glossary = _tables(content_dir, TABLES["glossary"], report)
    departments = _tables(content_dir, TABLES["departments"], report)
    style = _house_style(content_dir / "house_style.toml", report)
    paths = sorted((content_dir / "leaflets").glob("*.md"))
    _check_names(paths, report)
    report.checked = len(paths)
    # A file that fails to parse still exists, so links and departments naming it are fine.
    known = {
        "leaflets": {p.stem for p in paths},
        "categories": {c.get("slug") for c in categories},
        "glossary": {glossary_slug(t) for t in glossary},
        "anchors": {s.anchor for s in SECTIONS},
        "offered": {slug for entry in departments for slug in entry.get("procedures", [])},
        "style": style,
    }

    for path in paths:
        try:
            leaflet = parse_leaflet(path)
        except ContentError as error:
            report.problems.append(Problem(error.path, error.line, error.message))
            continue
        _check_leaflet(leaflet, known, today, report)

    _check_translations(content_dir, known, report)
    for slug in REQUIRED_LEAFLETS:
        if slug not in known["leaflets"]:
            report.problems.append(
                Problem(content_dir / "leaflets" / f"{slug}.md", 0, f"required leaflet '{slug}' is missing")
            )
    departments_path = content_dir / "departments.toml"
    for entry in departments:
        missing = [key for key in DEPARTMENT_CONTACTS if not str(entry.get(key, "")).strip()]
        if missing:
            report.problems.append(
                Problem(
                    departments_path,
                    line_of(departments_path, f'slug = "{entry.get("slug")}"'),
                    f"department '{entry.get('slug')}' has no {', '.join(missing)}: every leaflet shows "
                    "them (the 24-hour route, PALS and the pharmacy helpline)",
                )
            )
        for slug in entry.get("procedures", []):
            if slug not in known["leaflets"]:
                # Several departments list the same procedure: point at this department's.
                after = line_of(departments_path, f'slug = "{entry.get("slug")}"')
                report.problems.append(
                    Problem(
                        departments_path,
                        line_of(departments_path, f'"{slug}"', after),
                        f"department '{entry.get('slug')}' offers '{slug}', which has no leaflet",
                    )
                )
    if len(glossary) < MIN_GLOSSARY_TERMS:
        report.problems.append(
            Problem(
                content_dir / "glossary.toml",
                0,
                f"the glossary has only {len(glossary)} terms; it needs at least {MIN_GLOSSARY_TERMS}",
            )
        )
    return report


def _check_translations(content_dir, known, report):
    """content/translations/<language>/<slug>.md: well formed, in the right folder, of a
    leaflet that exists. Readability formulas are English, so they are not applied here;
    translations are checked by a professional translator instead."""
    paths = sorted((content_dir / "translations").glob("*/*.md"))
    _check_names(paths, report)
    for path in paths:
        report.translations += 1
        try:
            translation = parse_translation(path)
        except ContentError as error:
            report.problems.append(Problem(error.path, error.line, error.message))
            continue
        if translation.slug not in known["leaflets"]:
            report.problems.append(Problem(path, 0, f"translates '{translation.slug}', which has no leaflet"))
        numbered = _section_lines(translation)
        for line, message in house_style.check_key_points(numbered["key_points"], next(iter(numbered))):
            report.problems.append(Problem(path, line, message))
        _check_sources(translation, report)
        if translation.meta["language"] != path.parent.name:
            report.problems.append(
                Problem(
                    path,
                    line_of(path, "language"),
                    f"says language '{translation.meta['language']}' "
                    f"but is in the '{path.parent.name}' folder",
                )
            )


def _house_style(path, report):
    if not path.exists():
        report.problems.append(Problem(path, 0, "file is missing: the house rules are checked against it"))
        return None
    try:
        return house_style.read_house_style(path)
    except ContentError as error:
        report.problems.append(Problem(error.path, error.line, error.message))
        return None


def _check_sources(leaflet, report):
    """Every source line dated and linked (PIF TICK: evidence the reader can look up)."""
    for source in leaflet.meta["sources"]:
        missing = house_style.source_problems(source)
        if missing:
            line = next(
                (n for n, text in enumerate(leaflet.front_lines, start=2) if source[:40] in text),
                leaflet.error("sources", "").line,
            )
            report.problems.append(
                Problem(
                    leaflet.path,
                    line,
                    f'source needs {" and ".join(missing)}: "{" ".join(source.split()[:10])}…"',
                )
            )


def _check_house_style(leaflet, numbered, known, report):
    """The issue-16 rules (content/HOUSE_STYLE.md): errors, each at the line to fix."""
    problems, meta, style = report.problems, leaflet.meta, known["style"]

    def add(found):
        for line, message in found:
            if isinstance(line, str):  # a front-matter key
                problems.append(_meta_problem(leaflet, line, message))
            else:
                problems.append(Problem(leaflet.path, line, message))

    for key, values in (("sedation", SEDATIONS), ("puncture", PUNCTURES)):
        if key not in meta:
            problems.append(
                Problem(
                    leaflet.path,
                    1,
                    f"front matter is missing '{key}' (one of "
                    f"{', '.join(values)}: see content/HOUSE_STYLE.md)",
                )
            )
    if leaflet.slug not in known["offered"]:
        problems.append(
            Problem(
                leaflet.path,
                0,
                "no department in departments.toml offers this leaflet, so it would show no phone number",
            )
        )
    _check_sources(leaflet, report)
    add(house_style.check_key_points(numbered["key_points"], next(iter(numbered))))
    for section in SECTIONS:
        add(house_style.check_bands(numbered[section.field], section.heading))
    add(house_style.check_risk_numbers(numbered["key_points"] + numbered["risks"], style) if style else [])
    add(house_style.check_death([line for s in SECTIONS for line in numbered[s.field]]))
    add(house_style.check_alternatives(numbered["alternatives"]))
    add(house_style.check_who_does_it(numbered["what_it_is"]))
    add(house_style.check_urgent(numbered["urgent_help"]))
    if style:
        add(house_style.check_house_rules(meta, numbered, style))


def _tables(content_dir, table, report):
    path = Path(content_dir) / table.file
    if not path.exists():
        report.problems.append(Problem(path, 0, "file is missing"))
        return []
    try:
        entries = table.entries(content_dir)
    except ContentError as error:
        report.problems.append(Problem(error.path, error.line, error.message))
        return []
    for error in table.problems(content_dir, entries):
        report.problems.append(Problem(error.path, error.line, error.message))
    return entries


def _check_names(paths, report):
    for path in paths:
        error = name_problem(path)
        if error:
            report.problems.append(Problem(error.path, error.line, error.message))


def _section_lines(leaflet):
    """{section field: [(file line number, text)]} including the heading line, so a problem
    can point at the line that causes it. parse_leaflet keeps only the joined text."""
    lines = file_lines(leaflet.path.read_text(encoding="utf-8"))
    found, current = {}, None
    first_body = len(leaflet.front_lines) + 2  # after the opening fence, front matter, closing fence
    for number, line in enumerate(lines[first_body:], start=first_body + 1):
        if line.startswith("## "):
            current = SECTIONS_BY_HEADING[line[3:].strip()].field
            found[current] = []
        if current:
            found[current].append((number, line))
    return found


def _first_line(numbered, test):
    """The first line passing `test`, else the section heading's line."""
    return next((number for number, line in numbered if test(line)), numbered[0][0])


def _check_leaflet(leaflet, known, today, report):
    problems = report.problems

    def problem(line, message, warning=False):
        problems.append(Problem(leaflet.path, line, message, warning))

    meta = leaflet.meta
    # Missing or empty sources and required sections never get here: parse_leaflet rejects them.
    if meta.get("sample_content") is not True:
        problems.append(
            _meta_problem(
                leaflet,
                "sample_content",
                "'sample_content = true' is missing: every leaflet must carry the sample-content notice",
            )
        )
    if meta["category"] not in known["categories"]:
        problems.append(_meta_problem(leaflet, "category", f"unknown category '{meta['category']}'"))
    due_key = "next_review_due" if "next_review_due" in meta else "last_reviewed"
    due = meta.get("next_review_due") or add_months(meta["last_reviewed"], DEFAULT_REVIEW_MONTHS)
    if due < today:
        problems.append(_meta_problem(leaflet, due_key, f"review date passed: the review was due on {due}"))

    numbered = _section_lines(leaflet)
    figures = []
    for section in SECTIONS:
        text = leaflet.sections.get(section.field)
        if not text:
            continue
        lines = numbered[section.field]
        heading_line = lines[0][0]
        result = measure(text)
        figures.append((section, result))
        if result.words < MIN_SECTION_WORDS:
            problem(
                heading_line,
                f"section '{section.heading}' is thin: {result.words} words (at least {MIN_SECTION_WORDS})",
            )
        if result.reading_ease < MIN_SECTION_EASE:
            problem(
                heading_line,
                f"section '{section.heading}' is hard to read: reading ease "
                f"{result.reading_ease} (at least {MIN_SECTION_EASE})",
            )
        elif result.reading_ease < MIN_EASE:
            problem(
                heading_line,
                f"section '{section.heading}' has reading ease {result.reading_ease} (aim for {MIN_EASE})",
                warning=True,
            )
        for sentence in result.long_sentences:
            start = " ".join(sentence.split()[:8])
            problem(
                _first_line(lines, lambda line, sentence=sentence: sentence in plain_sentences(line)),
                f'long sentence ({len(sentence.split())} words, over 25): "{start}…"',
            )
        image = image_problem(text)
        if image:
            problem(_first_line(lines, image_problem), f"picture in '{section.heading}': {image}")
        for number, line in lines:
            for target in _LINK.findall(line):
                broken = _broken_link(target, known)
                if broken:
                    problem(number, f"broken link to {target}: {broken}")

    _check_house_style(leaflet, numbered, known, report)

    overall = measure("\n".join(leaflet.sections.get(s.field, "") for s in SECTIONS))
    report.leaflets.append(LeafletFigures(leaflet.path, figures, overall))
    if overall.reading_ease < MIN_EASE:
        problem(0, f"overall reading ease {overall.reading_ease} is below {MIN_EASE}")
    if overall.grade > MAX_GRADE:
        problem(0, f"overall grade {overall.grade} is above {MAX_GRADE}")


def _meta_problem(leaflet, key, message):
    error = leaflet.error(key, message)
    return Problem(error.path, error.line, error.message)


def _broken_link(target, known):
    """Why an internal link would lead a patient to a missing page, or None."""
    path, _, anchor = target.partition("#")
    if path.startswith("/procedures/"):
        parts = path.split("/")  # "", "procedures", slug, ...
        if parts[2] == "category" and len(parts) > 3 and parts[3] not in known["categories"]:
            return f"no category '{parts[3]}'"
        if parts[2] not in ("", "category") and parts[2] not in known["leaflets"]:
            return f"no leaflet '{parts[2]}'"
    elif path == "/glossary/" and anchor and anchor not in known["glossary"]:
        return f"no glossary term '{anchor}'"
    elif not path and anchor not in known["anchors"]:
        return f"no section '#{anchor}' in a leaflet"
    return None
