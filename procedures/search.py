"""Finding leaflets from the words patients type.

`search(query)` is the one entry point: it returns `Result`s (a procedure with a live leaflet
and the matching words of its leaflet as a highlighted snippet), best first. `suggest(query)`
offers the closest procedure names when nothing matched. The database decides how:

- PostgreSQL: full-text search over a stored, GIN-indexed `Procedure.search_document`
  (title and lay names weigh most, then the summary, then the live leaflet's text), ranked,
  with ts_headline snippets; pg_trgm word similarity on the title and lay names catches
  misspellings ("nefrostomy", "vertebroplasy") and makes the did-you-mean list.
- SQLite (`./dev run`): every word must appear somewhere (substring match), and difflib finds
  close spellings of the words in titles and lay names.

User text only ever reaches PostgreSQL as a parameter of websearch_to_tsquery,
plainto_tsquery or word_similarity, never as raw tsquery syntax, so quotes, `& | !` and
the like are just characters.

`index_procedures()` keeps the stored search text and vector up to date; the model calls it
through `Procedure.refresh_search_document()` when a procedure is saved and when a version
is published or withdrawn.
"""

import difflib
import operator
import re
from dataclasses import dataclass
from functools import reduce
from html import unescape

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.db import connection, connections
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

CONFIG = "english"  # the text-search dictionary: British leaflets, English stemming
MAX_QUERY_LENGTH = 200  # the view also caps it and tells the patient
MAX_WORDS = 8
MAX_RESULTS = 20
SUGGESTIONS = 3
# pg_trgm's word_similarity. A whole query is a misspelt name above pg_trgm's own default
# threshold, 0.6, which its %> operator (and so the trigram index) uses. Single words get
# a looser test, and suggestions looser still: they are offered, not shown as results.
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
        similarity = Greatest(
            TrigramWordSimilarity(query, "title"),
            TrigramWordSimilarity(query, "lay_names"),
            TrigramSimilarity("title", query),
        )
        found = (
            _live_procedures()
            .defer("search_text", "search_document")
            .annotate(similarity=similarity)
            .filter(similarity__gte=SUGGESTION_SIMILARITY)
            .order_by("-similarity", "title")
        )
        return list(found[:SUGGESTIONS])
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


def _words(query):
    return [w.lower() for w in _WORD.findall(query)][:MAX_WORDS]


def _live_procedures():
    from .models import LeafletVersion, Procedure

    live = LeafletVersion.objects.current().filter(procedure=OuterRef("pk"))
    return Procedure.objects.filter(Exists(live)).select_related("category")


# -- PostgreSQL ----------------------------------------------------------------------------


def _postgres_search(query, words):
    """One query. Leaflets that have every word, or whose name the whole query is a misspelling
    of, come first and alone if there are any; otherwise any word, or any misspelt word of a
    name, will do ("vertebroplsty injection"), names holding more of the words first."""
    every_word = SearchQuery(query, config=CONFIG, search_type="websearch")
    any_word = reduce(
        operator.or_, (SearchQuery(w, config=CONFIG, search_type="plain") for w in words)
    )
    # A misspelt name: the gin_trgm_ops indexes on title and lay_names serve these operators.
    like_a_name = Q(TrigramWordSimilar(F("title"), Value(query))) | Q(
        TrigramWordSimilar(F("lay_names"), Value(query))
    )
    long_words = [w for w in words if len(w) > 3]
    word_similarities = [
        Greatest(TrigramWordSimilarity(w, "title"), TrigramWordSimilarity(w, "lay_names"))
        for w in long_words
    ]
    like_a_word = reduce(
        operator.or_,
        (Q(GreaterThanOrEqual(similarity, WORD_SIMILARITY)) for similarity in word_similarities),
        Q(pk__in=[]),
    )
    close = Q(search_document=every_word) | like_a_name
    name_similarity = Greatest(
        TrigramWordSimilarity(query, "title"), TrigramWordSimilarity(query, "lay_names")
    )
    names_hold = reduce(operator.add, word_similarities, Value(0.0)) / Value(
        float(max(len(long_words), 1))
    )
    found = list(
        _live_procedures()
        .defer("search_text", "search_document")  # read by the database, not by Python
        .filter(close | Q(search_document=any_word) | like_a_word)
        .annotate(
            close=ExpressionWrapper(close, output_field=BooleanField()),
            score=Case(
                When(close, then=SearchRank(F("search_document"), every_word) + name_similarity),
                default=SearchRank(F("search_document"), any_word) + names_hold,
            ),
            headline=SearchHeadline(
                F("search_text"), any_word, config=CONFIG, start_sel=_START, stop_sel=_STOP,
                max_fragments=1, min_words=12, max_words=30,
            ),
        )
        .order_by("-close", "-score", "title")[:MAX_RESULTS]
    )
    if found and found[0].close:
        found = [procedure for procedure in found if procedure.close]
    return [Result(p, snippet=_marked(p.headline)) for p in found]


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
        out.append(escape(window[position:match.start()]))
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
