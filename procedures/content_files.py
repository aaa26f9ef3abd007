"""Reading and writing the leaflet library's files (content/).

A leaflet file is TOML front matter between `+++` lines, then one `## Heading` per section,
headings taken from the section registry. Everything here is plain Python with no database,
so the loader, the exporter and the content check share one parser and one writer, and a
malformed file is reported with its path and line before anything touches the database.
"""

import datetime
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .sections import SECTIONS, SECTIONS_BY_HEADING

FENCE = "+++"
_TOML_POSITION = re.compile(r"\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)")
REQUIRED_KEYS = (
    "title",
    "resource_number",
    "category",
    "summary",
    "version",
    "status",
    "last_reviewed",
    "sources",
)
# A translation (content/translations/<language>/<slug>.md) takes its resource number and
# category from the English leaflet of the same slug, and names the English version it was
# translated from; its title, summary and lay names are in its own language.
TRANSLATION_REQUIRED_KEYS = (
    "language",
    "translation_of",
    "title",
    "summary",
    "version",
    "status",
    "last_reviewed",
    "sources",
)
STATUSES = ("draft", "in_review", "published", "superseded", "withdrawn")
# The house style's two facts about a procedure (content/HOUSE_STYLE.md); the same values as
# models.Sedation and models.Puncture. Optional here, so older files and backups still load;
# check_content requires them in the library.
SEDATIONS = ("local", "sedation", "general")
PUNCTURES = ("none", "artery", "vein")


class ContentError(Exception):
    """A problem in a content file, located by path and line for the person fixing it."""

    def __init__(self, path, line, message):
        self.path, self.line, self.message = Path(path), line, message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


@dataclass
class LeafletFile:
    path: Path
    meta: dict
    front_lines: list = field(repr=False, default_factory=list)
    sections: dict = field(default_factory=dict)  # section field -> Markdown

    @property
    def slug(self):
        return self.path.stem

    def error(self, key, message):
        """A ContentError pointing at the line where front-matter `key` is set."""
        return ContentError(self.path, _key_line(self.front_lines, key), message)


def parse_translation(path):
    """Parse and check one translation file: the leaflet format with its own front matter."""
    return parse_leaflet(path, required=TRANSLATION_REQUIRED_KEYS)


def parse_leaflet(path, complete=True, required=REQUIRED_KEYS):
    """Parse and check one leaflet file. `complete=False` is for the versions a backup holds
    (procedures/library.py): a draft may still have empty sections, and a version published
    long ago may have no sources, but the record keeps them as they were."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(path, 0, f"is not UTF-8 text ({exc.reason})") from None
    lines = file_lines(text)
    if not lines or lines[0].strip() != FENCE:
        raise ContentError(path, 1, f"must start with a '{FENCE}' line opening the front matter")
    try:
        close = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == FENCE)
    except StopIteration:
        raise ContentError(path, 1, f"front matter is never closed with a '{FENCE}' line") from None

    try:
        meta = tomllib.loads("\n".join(lines[1:close]))
    except tomllib.TOMLDecodeError as exc:
        # tomllib counts lines from the start of the front matter, one below the fence.
        line, message = _toml_error(exc)
        raise ContentError(path, line + 1, f"front matter: {message}") from None
    _check_meta(path, meta, lines[1:close], complete, required)

    leaflet = LeafletFile(path=path, meta=meta, front_lines=lines[1:close])
    current, start, body = None, close + 1, []
    for number, line in enumerate(lines[close + 1 :], start=close + 2):
        if line.startswith("## "):
            _store(path, leaflet, current, start, body)
            heading = line[3:].strip()
            if heading not in SECTIONS_BY_HEADING:
                known = "; ".join(s.heading for s in SECTIONS)
                raise ContentError(
                    path, number, f"unknown section heading '{heading}' (expected one of: {known})"
                )
            current, start, body = SECTIONS_BY_HEADING[heading], number, []
        elif current is None:
            if line.strip():
                raise ContentError(path, number, "text before the first '## ' section heading")
        else:
            body.append(line)
    _store(path, leaflet, current, start, body)

    for section in SECTIONS:
        if complete and section.required and not leaflet.sections.get(section.field):
            raise ContentError(path, 0, f"section '{section.heading}' is missing or empty")
    return leaflet


def file_lines(text):
    """The file's lines as an editor counts them. Not str.splitlines(), which also breaks at
    U+2028, U+2029 and U+0085: text holding one of those would come apart mid-sentence."""
    return [line.removesuffix("\r") for line in text.removesuffix("\n").split("\n")]


def _store(path, leaflet, section, start, body):
    if section is None:
        return
    if section.field in leaflet.sections:
        raise ContentError(path, start, f"section '{section.heading}' appears twice")
    leaflet.sections[section.field] = "\n".join(body).strip()


def _key_line(front_lines, key):
    """The file line where a front-matter key is set, so errors point at it."""
    for number, line in enumerate(front_lines, start=2):
        if line.split("=")[0].strip() == key:
            return number
    return 1


def _check_meta(path, meta, front_lines, complete=True, required=REQUIRED_KEYS):
    for key in required:
        if not complete and key == "sources":
            meta.setdefault("sources", [])
            continue
        if key not in meta or meta[key] in ("", []):
            raise ContentError(path, 1, f"front matter is missing '{key}'")
    problems = {
        "version": not isinstance(meta["version"], int) or meta["version"] < 1,
        "status": meta["status"] not in STATUSES,
        "last_reviewed": not isinstance(meta["last_reviewed"], datetime.date),
        "next_review_due": "next_review_due" in meta
        and not isinstance(meta["next_review_due"], datetime.date),
        "sources": not isinstance(meta["sources"], list)
        or not all(isinstance(s, str) and s.strip() for s in meta["sources"]),
        "lay_names": not isinstance(meta.get("lay_names", []), list),
        "translation_of": "translation_of" in meta
        and (not isinstance(meta["translation_of"], int) or meta["translation_of"] < 1),
        "language": "language" in meta
        and (not isinstance(meta["language"], str) or not re.fullmatch(r"[a-z]{2,3}", meta["language"])),
        "sedation": "sedation" in meta and meta["sedation"] not in SEDATIONS,
        "puncture": "puncture" in meta and meta["puncture"] not in PUNCTURES,
    }
    expectations = {
        "version": "a whole number from 1",
        "status": "one of " + ", ".join(STATUSES),
        "last_reviewed": "a date like 2026-11-01",
        "next_review_due": "a date like 2029-11-01",
        "sources": "a list of source names",
        "lay_names": "a list of words patients use",
        "translation_of": "the number of the English version translated, from 1",
        "language": "a language code like ar or pl",
        "sedation": "one of "
        + ", ".join(f'"{s}"' for s in SEDATIONS)
        + " (local anaesthetic only; local anaesthetic and sedation; general anaesthetic)",
        "puncture": "one of "
        + ", ".join(f'"{s}"' for s in PUNCTURES)
        + " (whether a needle goes into an artery or a large vein)",
    }
    for key, bad in problems.items():
        if bad:
            raise ContentError(path, _key_line(front_lines, key), f"'{key}' must be {expectations[key]}")
    for key in ("food_hours", "clear_fluids_hours"):
        value = meta.get(key)
        if value is not None and (not isinstance(value, (int, float)) or not 0 <= value <= 24):
            raise ContentError(
                path, _key_line(front_lines, key), f"'{key}' must be a number of hours from 0 to 24"
            )


def _toml_error(exc):
    """(line, message) from a TOMLDecodeError; Python 3.11 only puts the line in the text."""
    found = _TOML_POSITION.search(str(exc))
    line = int(found["line"]) if found else 1
    return line, _TOML_POSITION.sub("", str(exc)).strip() + (f" (column {found['column']})" if found else "")


def read_toml(path):
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(path, *_toml_error(exc)) from None
    except UnicodeDecodeError as exc:
        raise ContentError(path, 0, f"is not UTF-8 text ({exc.reason})") from None


def write_leaflet(path, meta, sections):
    """Write one leaflet file; parse_leaflet(write_leaflet(...)) gives back the same data."""
    out = [FENCE, _dump_toml(meta), FENCE, ""]
    for section in SECTIONS:
        text = sections.get(section.field, "").strip()
        if text:
            out += [f"## {section.heading}", "", text, ""]
    Path(path).write_text("\n".join(out), encoding="utf-8")


def _dump_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "".join(f"  {_dump_value(v)},\n" for v in value) + "]"
    # A TOML basic string: escape backslash, quote and control characters.
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    # Line and paragraph separators are legal in TOML, but many tools treat them as line ends.
    escaped = "".join(
        f"\\u{ord(c):04x}" if ord(c) < 0x20 or c in "\x7f\x85\u2028\u2029" else c for c in escaped
    )
    return f'"{escaped}"'


def _dump_toml(meta):
    return "\n".join(f"{key} = {_dump_value(value)}" for key, value in meta.items() if value is not None)


def dump_toml_tables(path, name, entries):
    """Write [[name]] tables, one per entry, in the order given."""
    blocks = [f"[[{name}]]\n{_dump_toml(entry)}\n" for entry in entries]
    Path(path).write_text("\n".join(blocks), encoding="utf-8")


# -- the library's tables (categories.toml, glossary.toml, departments.toml) -----------------

# A slug is part of a web address (and, for glossary terms, of the link to a definition):
# lower-case letters and digits in words joined by hyphens, as URLs print them.
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def glossary_slug(entry):
    """The slug a glossary entry gets: its own, or made from the term as the model makes it."""
    from django.utils.text import slugify

    return entry.get("slug") or slugify(str(entry.get("term", "")))[:50]


@dataclass(frozen=True)
class Table:
    """What a valid [[name]] table of the library holds."""

    file: str
    name: str
    kind: str  # how a message names one entry
    required: tuple
    unique: tuple  # (label, entry -> value): two entries with the same value would be one row

    def entries(self, content_dir):
        path = Path(content_dir) / self.file
        data = read_toml(path) if path.exists() else {}
        entries = data.get(self.name, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ContentError(path, 1, f"expected [[{self.name}]] tables")
        return entries

    def problems(self, content_dir, entries):
        """Every missing value, bad slug and duplicate, as ContentErrors at their lines."""
        path = Path(content_dir) / self.file
        lines = file_lines(path.read_text(encoding="utf-8")) if path.exists() else []
        starts = [n for n, line in enumerate(lines, start=1) if line.strip() == f"[[{self.name}]]"]
        found, seen = [], {label: {} for label, _ in self.unique}

        def line_of(index, key):
            """The line setting `key` in the index-th table, or the table's own first line."""
            start = starts[index] if index < len(starts) else 0
            end = starts[index + 1] if index + 1 < len(starts) else len(lines) + 1
            return next(
                (n for n in range(start + 1, end) if lines[n - 1].split("=")[0].strip() == key), start
            )

        for index, entry in enumerate(entries):
            label = entry.get("slug") or entry.get("term") or "?"
            for key in self.required:
                if not str(entry.get(key, "")).strip():
                    found.append(
                        ContentError(path, line_of(index, key), f"{self.kind} '{label}' has no '{key}'")
                    )
            slug = entry.get("slug")
            if slug not in (None, "") and not (isinstance(slug, str) and SLUG.fullmatch(slug)):
                found.append(
                    ContentError(
                        path,
                        line_of(index, "slug"),
                        f"{self.kind} '{label}': slug {slug!r} must be lower-case letters and digits "
                        "joined by hyphens, like 'kidney-tube' (it is part of a web address)",
                    )
                )
            for key_label, value_of in self.unique:
                value = value_of(entry)
                if not value:
                    continue
                line = line_of(index, key_label)
                if value in seen[key_label]:
                    found.append(
                        ContentError(
                            path,
                            line,
                            f"{self.kind} {key_label} '{value}' is used twice (first at line "
                            f"{seen[key_label][value]}): the second would silently replace the first",
                        )
                    )
                else:
                    seen[key_label][value] = line
        return found


TABLES = {
    "categories": Table(
        "categories.toml",
        "category",
        "category",
        ("slug", "name", "summary"),
        (("slug", lambda e: e.get("slug")),),
    ),
    "glossary": Table(
        "glossary.toml",
        "term",
        "glossary term",
        ("term", "definition"),
        (("term", lambda e: str(e.get("term", "")).strip()), ("slug", glossary_slug)),
    ),
    "departments": Table(
        "departments.toml",
        "department",
        "department",
        ("slug", "name", "site", "address", "phone", "opening_hours", "urgent_advice"),
        (("slug", lambda e: e.get("slug")),),
    ),
}


def name_problem(path):
    """A ContentError if a leaflet or translation file's name cannot be its web address."""
    if not SLUG.fullmatch(Path(path).stem):
        return ContentError(
            path,
            0,
            f"the file name '{Path(path).stem}' must be lower-case letters and digits "
            "joined by hyphens, like 'kidney-biopsy.md': it becomes the leaflet's web address",
        )
    return None


def line_of(path, text, after=0):
    """The first line after line `after` that mentions `text`, or 0."""
    for number, line in enumerate(file_lines(Path(path).read_text(encoding="utf-8")), start=1):
        if number > after and text in line:
            return number
    return 0
