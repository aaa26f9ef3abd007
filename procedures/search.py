"""Finding leaflets from the words patients type.

`search(query)` is the one entry point: it returns `Result`s (a procedure with a live leaflet
and the matching words of its leaflet as a highlighted snippet), best first. `suggest(query)`
offers the closest procedure names when nothing matched. The database decides how:

- PostgreSQL: full-text search over a stored, GIN-indexed `Procedure.search_document`
  (title and lay names weigh most, then the summary, then the live leaflet's text), ranked,
  with ts_headline snippets; pg_trgm word similarity on the title and lay names catches
  misspellings ("nefrostomy", "vertebroplasy") and makes the did-you-mean list. Each kind of
  match is looked for only when the one before found no live leaflet, always through the
  indexes, all in one statement, so a search costs about 15 ms at 10,000 leaflets (README,
  Benchmarks).
- SQLite (`./dev run`): every word must appear somewhere (substring match), and difflib finds
  close spellings of the words in titles and lay names.

User text only ever reaches PostgreSQL as a parameter of websearch_to_tsquery, to_tsvector
or word_similarity (and the %> operator), never as raw tsquery syntax, so quotes, `& | !`
and the like are just characters.

`index_procedures()` keeps the stored search text and vector up to date; the model calls it
through `Procedure.refresh_search_document()` when a procedure is saved and when a version
is published or withdrawn.
"""

import difflib
import functools
import re
from dataclasses import dataclass
from html import unescape

from django.contrib.postgres.search import SearchVector
from django.db import connection, connections
from django.db.models import Value
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

CONFIG = "english"  # the text-search dictionary: British leaflets, English stemming
MAX_QUERY_LENGTH = 200  # the view also caps it and tells the patient
MAX_WORDS = 8
MAX_RESULTS = 20
SUGGESTIONS = 3
# Ranking reads each matching leaflet's whole search vector. Words that almost every leaflet
# holds ("blood thinners") would have all of them read, about 80 ms at 10,000 leaflets, so at
# most this many are ranked: the first the index scan gives, without sorting them, which
# would mean reading every match too. A library where fewer leaflets match a query, as in
# any library of this size or less, has all of them ranked.
RANKED_AT_MOST = 100
# pg_trgm's word_similarity. A whole query is a misspelt name at pg_trgm's own default
# threshold, 0.6. Single words get a looser test, and suggestions looser still: they are
# offered, not shown as results. The %> operator, which the trigram indexes serve, reads its
# threshold from a setting, so search sets that to the lowest it needs (_search_statement).
NAME_SIMILARITY = 0.6  # the whole query, a misspelt name ("vertebroplasy")
WORD_SIMILARITY = 0.5  # one misspelt word ("nefrstmy"), when no leaflet has every word
SUGGESTION_SIMILARITY = 0.3
# difflib ratios on SQLite: a word of a name, a whole name, a word offered as a suggestion.
CLOSE_WORD = 0.8
CLOSE_NAME = 0.6
SUGGESTION_WORD = 0.75
# Words that say nothing about which leaflet a patient means (SQLite only: PostgreSQL's
# english dictionary has its own list).
STOP_WORDS = frozenset(
    "a an and are at be by do for from had has have i if in into is it me my of on or our so "
    "the their them they this to was we what when where which who why will with you your".split()
)
# Private-use characters mark the highlighted words in ts_headline's output, so the rest can
# be escaped before <mark> is put in. They are removed from the stored text.
_START, _STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, MaxFragments=1"
_WORD = re.compile(r"\w+")
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|td|th|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


@dataclass
class Result:
    procedure: object
    snippet: str = ""  # safe HTML: escaped text with the matching words in <mark>


def search(query):
    """Procedures with a live leaflet that match `query`, best first (at most MAX_RESULTS)."""
    query = clean(query)
    words = _words(query)
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _postgres_search(query, words)
    return _simple_search(query, words)


def suggest(query):
    """The procedure names closest to `query`, for "Did you mean …?" when nothing matched."""
    query = clean(query)
    if not _words(query):
        return []
    if connection.vendor == "postgresql":
        return _postgres_suggest(query)
    scored = []
    for procedure in _live_procedures():
        names = [procedure.title.lower(), *(n.lower() for n in procedure.lay_name_list)]
        best = max(difflib.SequenceMatcher(None, query.lower(), name).ratio() for name in names)
        words = _name_words(procedure)
        for word in _words(query):
            close = difflib.get_close_matches(word, words, n=1, cutoff=SUGGESTION_WORD)
            if close:
                best = max(best, difflib.SequenceMatcher(None, word, close[0]).ratio())
        if best >= CLOSE_NAME:
            scored.append((-best, procedure.title, procedure.pk, procedure))
    return [procedure for *_, procedure in sorted(scored)[:SUGGESTIONS]]


def clean(query):
    """What any caller may pass: no control characters, at most MAX_QUERY_LENGTH characters."""
    query = "".join(ch if ch.isprintable() else " " for ch in str(query)[:MAX_QUERY_LENGTH])
    return " ".join(query.replace(_START, " ").replace(_STOP, " ").split())


def normalise(query):
    """`query` as search() and suggest() treat it, so equal for queries they answer alike:
    cleaned, in lower case (both ways of searching ignore case). Results are cached under it."""
    return clean(query).lower()


def slim(procedure):
    """The procedure with only what the search page shows of it (the rest deferred), to keep
    in the cache: a whole procedure carries its leaflet's text."""
    model = type(procedure)
    shown = [f.attname for f in model._meta.concrete_fields if f.attname in SHOWN_FIELDS]  # in their order
    return model.from_db(procedure._state.db, shown, [getattr(procedure, name) for name in shown])


SHOWN_FIELDS = frozenset(("id", "slug", "title", "summary"))  # the search page: link, title, summary


def _words(query):
    return [w.lower() for w in _WORD.findall(query)][:MAX_WORDS]


def _live_procedures():
    from .models import Procedure

    return Procedure.objects.with_published_leaflet().select_related("category")


# -- PostgreSQL ----------------------------------------------------------------------------


def _postgres_search(query, words):
    """Leaflets that have every word come first and alone if there are any; then leaflets
    whose name the whole query is a misspelling of ("nefrostomy"); otherwise any word, or any
    misspelt word of a name, will do ("vertebroplsty injection"), names holding more of the
    words first. A later step counts only when the ones before found no live leaflet.

    Two round trips when something is found: the best live leaflets of the first step that
    finds any, in one statement (_search_statement), and their snippets (_snippets). One when
    nothing matches, so the no-results page, which also looks up suggestions and phone
    numbers, stays within the page query budget.
    """
    from .models import Procedure

    params = {
        "config": CONFIG,
        "query": query,
        "words": " ".join(words),
        # websearch_to_tsquery's "or" between the words: any of them. The words are letters
        # and digits only (_words), so nothing in them can be read as query syntax.
        "any_word": " or ".join(words),
        "long_words": [w for w in words if len(w) > 3],
        "word_similarity": WORD_SIMILARITY,
        "name_similarity": NAME_SIMILARITY,
        "ranked_at_most": RANKED_AT_MOST,
        "max_results": MAX_RESULTS,
        **_live_params(),
    }
    found = list(Procedure.objects.raw(_search_statement(), params))
    snippets = _snippets(found, params) if found else {}
    return [Result(p, snippet=_marked(snippets.get(p.pk))) for p in found]


_EVERY_WORD = "websearch_to_tsquery(%(config)s::regconfig, %(query)s)"
_ANY_WORD = "websearch_to_tsquery(%(config)s::regconfig, %(any_word)s)"
# How well a leaflet fits, best highest: the rank of its words (names weigh most, then the
# summary, then the text), plus how like a stretch of its name the query is...
_CLOSENESS = (
    f"ts_rank(search_document, {_EVERY_WORD})"
    " + greatest(word_similarity(%(query)s, title), word_similarity(%(query)s, lay_names))"
)
# ... or, when any word will do, how like its name each longer word is, on average.
_ANY_CLOSENESS = (
    f"ts_rank(search_document, {_ANY_WORD}) + coalesce(("
    "SELECT avg(greatest(word_similarity(word, title), word_similarity(word, lay_names)))"
    " FROM unnest(%(long_words)s::text[]) AS word), 0)"
)
# The kinds of match, in the order they are tried, and how their leaflets are ranked: every
# word anywhere in the leaflet; the whole query a misspelt name; any word, or a misspelt
# longer word of a name. %> (pg_trgm: the right-hand text is like a stretch of the name) is
# what the trigram indexes serve. It tests the threshold the statement sets, the lowest, so
# the misspelt-name step checks its own stricter one as well.
_STEPS = (
    (f"search_document @@ {_EVERY_WORD}", _CLOSENESS),
    (
        "(title %%> %(query)s OR lay_names %%> %(query)s) AND greatest("
        "word_similarity(%(query)s, title), word_similarity(%(query)s, lay_names)"
        ") >= %(name_similarity)s",
        _CLOSENESS,
    ),
    (
        f"search_document @@ {_ANY_WORD}"
        " OR title %%> ANY(%(long_words)s::text[]) OR lay_names %%> ANY(%(long_words)s::text[])",
        _ANY_CLOSENESS,
    ),
)


@functools.cache
def _search_statement():
    """The settings, then each step as a CTE: at most RANKED_AT_MOST of its matches, of
    which those with a live leaflet count,

        WITH step0 AS (…), step1 AS (… AND NOT EXISTS (SELECT FROM step0)), …

    then the best MAX_RESULTS of the step that found some, with the stems of the query's
    words (the same for all; for _snippets). An uncorrelated NOT EXISTS is a one-time filter
    in PostgreSQL's plan, so a later step's index scans run only when every step before it
    came back empty.

    Left to itself the planner reads the whole table rather than the GIN indexes, as that
    looks cheaper to it: it does not know that testing a row against a tsquery means
    decompressing the row's search vector, about 4 KB. That is some 70 ms for 10,000
    leaflets, against 1 to 6 ms through the indexes. So plain and index scans are turned off,
    which leaves bitmap scans of the indexes. psycopg2 sends the string as one simple query,
    which PostgreSQL runs as one transaction, so SET LOCAL ends with it. Inside a caller's
    transaction the settings last until _snippets puts them back or, when nothing was found,
    until that transaction ends (they change plans, never results).
    """
    from .models import Procedure

    procedures = _table(Procedure)
    steps, closeness = [], []
    for number, (condition, rank) in enumerate(_STEPS):
        earlier = "".join(f" AND NOT EXISTS (SELECT FROM step{n})" for n in range(number))
        steps.append(
            f"step{number} AS (SELECT {number} AS step, id FROM ("
            f"SELECT id FROM {procedures} WHERE {condition} LIMIT %(ranked_at_most)s"
            f") AS matched WHERE {_live()}{earlier})"
        )
        closeness.append(f"WHEN {number} THEN {rank}")
    found = " UNION ALL ".join(f"SELECT step, id FROM step{n}" for n in range(len(_STEPS)))
    return (
        "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
        "SET LOCAL pg_trgm.word_similarity_threshold = %(word_similarity)s; "
        f"WITH {', '.join(steps)}, found AS ({found}) "
        f"SELECT {_shown_columns('procedure')}, "
        "(SELECT tsvector_to_array(to_tsvector(%(config)s::regconfig, %(words)s))) AS query_stems "
        f"FROM found JOIN {procedures} AS procedure ON procedure.id = found.id "
        f"ORDER BY CASE found.step {' '.join(closeness)} END DESC, procedure.title "
        "LIMIT %(max_results)s"
    )


def _snippets(procedures, params):
    """{pk: ts_headline of the procedure's leaflet text}, for the results shown only.

    ts_headline parses all the text it is given, about 1 ms for a whole leaflet, so it gets a
    window of the text around the first word that matches instead. A form of a word begins with
    its stem, less a final "i" ("biopsi": biopsy, biopsies), so the words of the text that begin
    so are candidates, each with a window around where it first appears; PostgreSQL keeps those
    that its dictionary makes one of the stems, as ts_headline would, and highlights the first
    in each text. The same statement puts back the settings _search_statement changed.
    """
    stems = procedures[0].query_stems
    prefixes = {stem.rstrip("i") or stem for stem in stems}
    candidates = []  # (pk, where, word, window)
    for procedure in procedures:
        # Searched in lower case; the rare letter whose lower case is longer only moves a
        # window by a character or two.
        text = procedure.search_text.lower()
        for prefix in prefixes:
            first_seen = {}
            for at in _word_starts(text, prefix):
                first_seen.setdefault(_WORD.match(text, at).group(), at)
                if len(first_seen) == 5:  # enough to pass over "tablets" to "table"
                    break
            candidates += [
                (procedure.pk, at, word, _window(procedure.search_text, at))
                for word, at in first_seen.items()
            ]
    pks, positions, candidate_words, windows = zip(*candidates, strict=True) if candidates else ([],) * 4
    with connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_indexscan TO DEFAULT; "
            "SET LOCAL pg_trgm.word_similarity_threshold TO DEFAULT; "
            f"SELECT pk, ts_headline(%(config)s::regconfig, window_text, {_ANY_WORD}, "
            "%(headline_options)s) FROM ("
            "  SELECT DISTINCT ON (pk) pk, window_text"
            "  FROM unnest(%(pks)s::bigint[], %(positions)s::int[], %(candidate_words)s::text[],"
            "    %(windows)s::text[]) AS candidate(pk, at, word, window_text)"
            "  WHERE tsvector_to_array(to_tsvector(%(config)s::regconfig, word)) && %(stems)s::text[]"
            "  ORDER BY pk, at"
            ") AS first_match",
            {
                **params,
                "headline_options": HEADLINE_OPTIONS,
                "pks": list(pks),
                "positions": list(positions),
                "candidate_words": list(candidate_words),
                "windows": list(windows),
                "stems": stems,
            },
        )
        return dict(cursor.fetchall())


def _word_starts(text, prefix):
    """Where the words of `text` that begin with `prefix` begin. str.find, as a regular
    expression takes milliseconds over 20 leaflets."""
    at = text.find(prefix)
    while at >= 0:
        if at == 0 or not text[at - 1].isalnum():
            yield at
        at = text.find(prefix, at + 1)


def _window(text, at, before=120, width=360):
    """About `width` characters of `text`, whole words, from `before` characters before `at`:
    room for ts_headline's fragment of up to 30 words."""
    start = max(0, at - before)
    if start:
        start = text.find(" ", start, at) + 1 or start
    end = min(len(text), start + width)
    if end < len(text):
        end = max(text.rfind(" ", at, end), at + 1)
    return text[start:end]


def _marked(headline):
    """ts_headline output -> safe HTML, or "" when it highlights nothing (the text did not
    match, only the name): the summary already says what the leaflet is."""
    if _START not in (headline or ""):
        return ""
    out = []
    for number, piece in enumerate(re.split(f"[{_START}{_STOP}]", headline)):
        out.append(f"<mark>{escape(piece)}</mark>" if number % 2 else escape(piece))
    return mark_safe(_ellipsis("".join(out)))


def _ellipsis(snippet):
    return f"… {snippet.strip()} …"


def _postgres_suggest(query):
    from .models import Procedure

    params = {"query": query, "at_least": SUGGESTION_SIMILARITY, "how_many": SUGGESTIONS, **_live_params()}
    return list(Procedure.objects.raw(_suggestion_statement(), params))


@functools.cache
def _suggestion_statement():
    """The live procedures whose names are most like the query: the query like a stretch of
    the title or lay names, or the whole title like the query, at least `at_least`. The
    operators %> and % test that threshold through the trigram indexes (here the planner
    chooses them by itself), so only names that pass are compared, not the whole table. The
    thresholds are set in the same round trip; any statement that uses the operators sets
    them first, so the values they keep in a caller's transaction change nothing."""
    from .models import Procedure

    return (
        "SET LOCAL pg_trgm.word_similarity_threshold = %(at_least)s; "
        "SET LOCAL pg_trgm.similarity_threshold = %(at_least)s; "
        f"SELECT {_shown_columns('matched')} FROM ("
        f"SELECT *, greatest(word_similarity(%(query)s, title), "
        "word_similarity(%(query)s, lay_names), similarity(title, %(query)s)) AS similarity "
        f"FROM {_table(Procedure)} "
        "WHERE title %%> %(query)s OR lay_names %%> %(query)s OR title %% %(query)s"
        f") AS matched WHERE {_live()} ORDER BY similarity DESC, title LIMIT %(how_many)s"
    )


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _shown_columns(alias):
    """The procedure's columns for Python, from the table or subquery named `alias`: all but
    the search vector, which only the database reads."""
    from .models import Procedure

    return ", ".join(
        f"{alias}.{connection.ops.quote_name(field.column)}"
        for field in Procedure._meta.concrete_fields
        if field.name != "search_document"
    )


@functools.cache
def _live_sql():
    """(SQL, parameters): the procedure `matched` has a live English leaflet. Compiled from
    LeafletVersion.objects.live(), the one definition of what patients can see, correlated to
    `matched` so it stays an EXISTS the planner runs per matched row; the parameters are
    renamed to the statements' %(name)s style."""
    from django.db.models.expressions import RawSQL

    from .models import DEFAULT_LANGUAGE, LeafletVersion

    live = (
        LeafletVersion.objects.live(DEFAULT_LANGUAGE)
        .filter(procedure_id=RawSQL("matched.id", ()))
        .order_by()
        .values("pk")
    )
    sql, params = live.query.get_compiler(connection=connection).as_sql()
    names = [f"live_{n}" for n in range(len(params))]
    return f"EXISTS ({sql % tuple(f'%({name})s' for name in names)})", dict(zip(names, params, strict=True))


def _live():
    return _live_sql()[0]


def _live_params():
    return _live_sql()[1]


# -- SQLite and any other database ----------------------------------------------------------


def _simple_search(query, words):
    words = [w for w in words if w not in STOP_WORDS] or words
    candidates = list(_live_procedures())
    vocabulary = sorted({w for p in candidates for w in _name_words(p)})
    # Each word may also be matched by a close spelling of a word in the names.
    forms = {w: [w] for w in words}
    for w in words:
        if len(w) > 3:
            forms[w] += difflib.get_close_matches(w, vocabulary, n=3, cutoff=CLOSE_WORD)
    phrase = query.lower()
    scored = []
    for procedure in candidates:
        names = (procedure.title + "\n" + procedure.lay_names).lower()
        summary, body = procedure.summary.lower(), procedure.search_text.lower()
        score = 0
        for word in words:
            places = [
                weight
                for form in forms[word]
                for weight, text in ((3, names), (2, summary), (1, body))
                if form in text
            ]
            if not places:
                break
            score += max(places)
        else:
            # The patient typed a name we know: "kidney tube" is the nephrostomy's own.
            if phrase in procedure.title.lower() or phrase in _lay_names_of(procedure):
                score += 4
            elif phrase in names:
                score += 2
            scored.append((-score, procedure.title, procedure.pk, procedure))
    matched = [procedure for *_, procedure in sorted(scored)[:MAX_RESULTS]]
    terms = [form for word in words for form in forms[word]]
    return [Result(p, snippet=_simple_snippet(p.search_text, terms)) for p in matched]


def _lay_names_of(procedure):
    return [name.lower() for name in procedure.lay_name_list]


def _name_words(procedure):
    """The longer words of a procedure's title and lay names: what difflib compares with."""
    text = procedure.title + " " + procedure.lay_names
    return {w.lower() for w in _WORD.findall(text) if len(w) > 3}


def _simple_snippet(text, terms, width=90):
    """About `width` characters either side of the first match, escaped, matches in <mark>."""
    terms = [t for t in terms if t]
    if not terms or not text:
        return ""
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
    first = pattern.search(text)
    if not first:
        return ""
    start = max(0, first.start() - width)
    end = min(len(text), first.end() + width)
    # Whole words only at the edges.
    if start:
        start = text.find(" ", start, first.start()) + 1 or start
    if end < len(text):
        end = max(text.rfind(" ", first.end(), end), first.end())
    window = text[start:end]
    out, position = [], 0
    for match in pattern.finditer(window):
        out.append(escape(window[position : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    out.append(escape(window[position:]))
    return mark_safe(_ellipsis("".join(out)))


# -- keeping the stored search text up to date ------------------------------------------------


def leaflet_text(version):
    """The plain text patients read in a version (all sections), for searching and snippets."""
    from .sections import SECTIONS

    if version is None:
        return ""
    sentences = []
    for section in SECTIONS:
        for block in _BLOCK_END.split(getattr(version, section.html_field) or ""):
            # strip_tags leaves entities (&amp;): unescaped here, escaped once when shown.
            text = " ".join(unescape(strip_tags(block)).split())
            if text:
                # A list item or heading ends a sentence, so snippets do not run them together.
                sentences.append(text if text[-1] in ".!?:;" else text + ".")
    return " ".join(sentences).replace(_START, " ").replace(_STOP, " ")


def index_procedures(procedures, versions):
    """Store the live leaflet's text, and on PostgreSQL the weighted search vector, for each
    procedure in the `procedures` queryset. `versions` is the LeafletVersion queryset to look
    in (a data migration passes its historical models)."""
    live = {
        v.procedure_id: v
        for v in versions.filter(status="published", language="en", procedure__in=procedures)
    }
    using = procedures.db
    vendor = connections[using].vendor
    for pk in procedures.values_list("pk", flat=True):
        text = leaflet_text(live.get(pk))
        changes = {"search_text": text}
        if vendor == "postgresql":
            changes["search_document"] = (
                SearchVector("title", "lay_names", weight="A", config=CONFIG)
                + SearchVector("summary", weight="B", config=CONFIG)
                + SearchVector(Value(text), weight="C", config=CONFIG)
            )
        procedures.model._default_manager.using(using).filter(pk=pk).update(**changes)
