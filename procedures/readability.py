"""Readability figures for leaflet text.

textstat is pinned at 0.7.3: later releases download a pronunciation dictionary at run time,
which fails on an offline hospital network. Syllables come from pyphen's bundled dictionary.

Markdown is reduced to plain sentences first. A list item or line with no full stop is still
one sentence to a reader, so it is closed with one; otherwise a bullet list would be scored
as a single endless sentence.
"""

import functools
import re
from dataclasses import dataclass

import textstat

LONG_SENTENCE_WORDS = 25

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`>#|]+")
_LIST_MARKER = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def plain_sentences(markdown_text):
    """Split Markdown into the sentences a reader meets, markup removed."""
    sentences = []
    for line in markdown_text.splitlines():
        line = _LIST_MARKER.sub("", line)
        line = _LINK.sub(r"\1", line)
        line = _MARKUP.sub("", line).strip()
        if not line or set(line) <= set("-: "):  # blank lines and table rules
            continue
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip()
            if sentence:
                sentences.append(sentence if sentence[-1] in ".!?:" else sentence + ".")
    return sentences


@dataclass(frozen=True)
class Readability:
    reading_ease: float  # Flesch reading ease: higher is easier; 60+ is plain English
    grade: float  # Flesch-Kincaid grade: US school grade; 8 is a reading age of about 13
    words: int
    long_sentences: tuple  # sentences over LONG_SENTENCE_WORDS words

    @property
    def reading_age(self):
        return round(self.grade + 5)


# The same sections are measured again and again: by every check_content run, by each save
# of a draft (its unchanged sections), and by the tests, which check copies of the library that
# differ in one section. The result is immutable and depends on the text alone.
@functools.lru_cache(maxsize=4096)
def measure(markdown_text):
    sentences = plain_sentences(markdown_text)
    text = " ".join(sentences)
    if not text:
        return Readability(0.0, 0.0, 0, ())
    return Readability(
        reading_ease=round(textstat.flesch_reading_ease(text), 1),
        grade=round(textstat.flesch_kincaid_grade(text), 1),
        words=textstat.lexicon_count(text),
        long_sentences=tuple(s for s in sentences if len(s.split()) > LONG_SENTENCE_WORDS),
    )
