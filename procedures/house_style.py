"""The house style's checks: what content/house_style.toml and content/HOUSE_STYLE.md promise
about every leaflet, found in the text by check_content.

A leaflet is read as sentences with the file line each starts on, so every problem points at
the sentence to fix. The rules are plain patterns a reviewer would apply by eye: they cannot
understand a sentence, so each message quotes what it found and HOUSE_STYLE.md says exactly what
passes. Everything here is plain Python over parsed files: no database.
"""

import math
import re
from dataclasses import dataclass

from .content_files import ContentError, read_toml

# -- reading house_style.toml ------------------------------------------------------------------------

UNBOUNDED = math.inf


@dataclass(frozen=True)
class HouseStyle:
    words: tuple  # (word, lowest N, highest N) for "1 in N", most frequent first
    qualifiers: tuple  # "about", "fewer than", "more than"
    fasting: dict  # sedation value -> {"fast": bool, "food_hours": n, "clear_fluids_hours": n}
    after_sedation: dict
    after_artery: dict


def read_house_style(path):
    """The rules from house_style.toml; ContentError (with the file) if one is missing."""
    data = read_toml(path)
    try:
        words = tuple(
            (entry["word"], entry["from"], entry["to"] or UNBOUNDED) for entry in data["frequency"]["word"]
        )
        style = HouseStyle(
            words=words,
            qualifiers=tuple(data["frequency"]["qualifiers"]),
            fasting={key: value for key, value in data["fasting"].items() if isinstance(value, dict)},
            after_sedation=data["after_sedation"],
            after_artery=data["after_artery_puncture"],
        )
        for sedation in ("local", "sedation", "general"):
            style.fasting[sedation]["fast"]
    except (KeyError, TypeError) as missing:
        raise ContentError(path, 0, f"house style is missing {missing}") from None
    return style


# -- reading a leaflet as sentences --------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKUP = re.compile(r"\*\*|__|`")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")


def sentences(numbered):
    """(line, sentence) for each sentence of a section's numbered lines, without the heading,
    list markers or bold marks. A sentence does not run across lines: lists break there."""
    for number, line in numbered:
        if line.startswith("#"):
            continue
        text = _MARKUP.sub("", _BULLET.sub("", line)).strip()
        for sentence in _SENTENCE_END.split(text):
            if sentence:
                yield number, sentence


def _quote(sentence, limit=12):
    words = sentence.split()
    return " ".join(words[:limit]) + ("…" if len(words) > limit else "")


# -- key points -------------------------------------------------------------------------------------------

MIN_KEY_POINTS, MAX_KEY_POINTS, MAX_KEY_POINT_WORDS = 3, 5, 25


def check_key_points(numbered, first_field):
    """[(line, message)] for the key-points box: first, 3 to 5 bullets of one short sentence."""
    problems = []
    heading_line = numbered[0][0]
    if first_field != "key_points":
        problems.append((heading_line, "'Key points' must be the first section, before 'What is it?'"))
    bullets = []
    for number, line in numbered[1:]:
        if not line.strip():
            continue
        if not _BULLET.match(line):
            problems.append((number, "'Key points' holds bullet lines only: start this line with '- '"))
            continue
        bullets.append((number, _MARKUP.sub("", _BULLET.sub("", line)).strip()))
    if not MIN_KEY_POINTS <= len(bullets) <= MAX_KEY_POINTS:
        problems.append(
            (
                heading_line,
                f"'Key points' has {len(bullets)} bullet lines; it needs "
                f"{MIN_KEY_POINTS} to {MAX_KEY_POINTS}",
            )
        )
    for number, bullet in bullets:
        if len([s for s in _SENTENCE_END.split(bullet) if s]) > 1:
            problems.append((number, f'a key point is one sentence: "{_quote(bullet)}"'))
        elif len(bullet.split()) > MAX_KEY_POINT_WORDS:
            problems.append(
                (
                    number,
                    f"a key point has {len(bullet.split())} words (at most "
                    f'{MAX_KEY_POINT_WORDS}): "{_quote(bullet)}"',
                )
            )
    return problems


# -- risks: "about 1 in N" with the word that fits N ---------------------------------------------------

_N = r"\d[\d,]*\d|\d"
_ONE_IN = re.compile(rf"\b1 in ({_N})\b")
_BAND = re.compile(
    rf"\bbetween\s+(?:about\s+)?(?:{_N}) in (?:{_N})\s+and\s+(?:about\s+)?(?:{_N}) in (?:{_N})"
    rf"|\b(?:{_N}) in (?:{_N})\s*(?:to|-|–|—)\s*(?:about\s+)?(?:{_N}) in (?:{_N})",
    re.IGNORECASE,
)


def _word_pattern(style):
    # Longest first, so "very common" is found before "common" inside it.
    words = sorted((word for word, _, _ in style.words), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def fitting_words(style, qualifier, n):
    """The frequency words that may go with "<qualifier> 1 in n"."""
    if qualifier == "fewer than":  # less often than 1 in n: a band reaching beyond n
        return [word for word, low, high in style.words if high > n]
    if qualifier == "more than":  # more often than 1 in n: a band starting before n
        return [word for word, low, high in style.words if low < n]
    return [word for word, low, high in style.words if low <= n <= high]


def check_bands(numbered, heading):
    """[(line, message)] for every wide band ("between 1 in 10 and 1 in 100") in a section."""
    return [
        (
            number,
            f"wide band in '{heading}': \"{found.group(0)}\". Give one figure "
            '("about 1 in N") and say "studies vary"',
        )
        for number, line in numbered
        for found in _BAND.finditer(_MARKUP.sub("", line))
    ]


def check_risk_numbers(numbered, style):
    """[(line, message)] for each "1 in N" without its qualifier or with a word that does not fit.
    The word is the nearest one before the number in the same sentence, else the first after it:
    a word from the sentence before belongs to that sentence's risk."""
    problems = []
    words = _word_pattern(style)
    qualifiers = "|".join(re.escape(q) for q in sorted(style.qualifiers, key=len, reverse=True))
    qualified = re.compile(rf"(?:^|\W)({qualifiers})\s*$", re.IGNORECASE)
    for number, line in numbered:
        if line.startswith("#"):
            continue
        text = _MARKUP.sub("", line)
        bands = [m.span() for m in _BAND.finditer(text)]
        for found in _ONE_IN.finditer(text):
            if any(start <= found.start() < end for start, end in bands):
                continue  # reported as a wide band
            n = int(found.group(1).replace(",", ""))
            shown = found.group(0)
            before = qualified.search(text[: found.start()])
            if not before:
                problems.append(
                    (
                        number,
                        f'"{shown}" needs '
                        + ", ".join(f'"{q}"' for q in style.qualifiers[:-1])
                        + f' or "{style.qualifiers[-1]}" before it',
                    )
                )
                continue
            qualifier = before.group(1).lower()
            starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= found.start()]
            ends = [m.start() for m in _SENTENCE_END.finditer(text, found.end())] + [len(text)]
            earlier = list(words.finditer(text, starts[-1], found.start()))
            later = words.search(text, found.end(), ends[0])
            word = earlier[-1] if earlier else later
            fits = fitting_words(style, qualifier, n)
            if word is None:
                problems.append(
                    (
                        number,
                        f'"{qualifier} {shown}" needs its frequency word on the same '
                        f"line: {' or '.join(fits)}",
                    )
                )
            elif word.group(1).lower() not in fits:
                problems.append(
                    (
                        number,
                        f'"{word.group(1)}" does not fit "{qualifier} {shown}": '
                        f"that is {' or '.join(fits)} on the house scale",
                    )
                )
    return problems


_DEATH = re.compile(r"\b(death|deaths|die|dies|died|dying|fatal)\b", re.IGNORECASE)
_COMMON = re.compile(r"\b(very common|common)\b", re.IGNORECASE)


def check_death(numbered):
    """[(line, message)]: a sentence about death never says "common" or "very common"."""
    return [
        (
            number,
            f'a sentence about death says "{_COMMON.search(sentence).group(1)}": death is '
            f'never common. Say "rare", "very rare" or "about 1 in N", in its own '
            f'sentence: "{_quote(sentence)}"',
        )
        for number, sentence in sentences(numbered)
        if _DEATH.search(sentence) and _COMMON.search(sentence)
    ]


# -- the sections that must say something -------------------------------------------------------------

_DOING_NOTHING = re.compile(
    r"doing nothing|do nothing|not having (?:the|this|a|an|any)\b|not to have|no treatment"
    r"|decide not to|choose not to",
    re.IGNORECASE,
)
_WHO = re.compile(
    r"\b(radiologists?|neuroradiologists?|doctors?|surgeons?|radiographers?|nurse specialists?"
    r"|specialist nurses?)\b",
    re.IGNORECASE,
)
_NHS_111 = re.compile(r"\b111\b")
_999 = re.compile(r"\b999\b")
_ROUTE_24H = re.compile(r"day or night|24 hours a day|switchboard|on-call|on call", re.IGNORECASE)


def _text(numbered):
    return "\n".join(line for _, line in numbered[1:])


def check_alternatives(numbered):
    if _DOING_NOTHING.search(_text(numbered)):
        return []
    return [
        (
            numbered[0][0],
            "'Are there other options?' must say what doing nothing (not having the procedure) would mean",
        )
    ]


def check_who_does_it(numbered):
    if _WHO.search(_text(numbered)):
        return []
    return [
        (
            numbered[0][0],
            "'What is it?' must say who does the procedure, for example \"An "
            'interventional radiologist, a doctor who uses scans to guide treatment"',
        )
    ]


def check_urgent(numbered):
    problems = []
    text = _text(numbered)
    if not _999.search(text):
        problems.append((numbered[0][0], "'When to get help urgently' must say when to call 999"))
    if _NHS_111.search(text) and not _ROUTE_24H.search(text):
        line = next(number for number, line in numbered if _NHS_111.search(line))
        problems.append(
            (
                line,
                'NHS 111 is not the only route out of hours: say "call us on the number '
                'below, day or night" (the page adds the switchboard and on-call team)',
            )
        )
    return problems


_YEAR = re.compile(r"\b(19|20)\d\d\b")
_HTTPS = re.compile(r"https://\S+")


def source_problems(source):
    """What a source line lacks: its year and its https link."""
    missing = []
    if not _YEAR.search(source):
        missing.append("a year")
    if not _HTTPS.search(source):
        missing.append("an https:// link")
    return missing


# -- house rules: fasting, going home after sedation, after an artery puncture -------------------------

# A number of hours, days, weeks or months, and how many hours that is.
_DURATION = re.compile(r"\b(\d+(?:\.\d+)?)\s*(hours?|days?|weeks?|months?)\b", re.IGNORECASE)
_HOURS_IN = {"hour": 1, "day": 24, "week": 24 * 7, "month": 24 * 30}
# What a number is about: the nearest of these words before it (HOUSE_STYLE.md, rules 9–11).
_TOPICS = {
    "food": r"eat|eating|food|meals?|milk|milky",
    "fluids": r"drink|drinking|drinks|fluids?|water|squash|tea|coffee",
    "escort": r"stay with you|stays with you|adult",
    "driving": r"drive|driving|drives",
    "shower": r"shower|showers|showering",
    "bath": r"bath|baths|bathe|bathing|swim|swimming|hot tub",
    "lifting": r"lift|lifting",
}
_TOPIC = re.compile("|".join(rf"\b(?P<{name}>{words})\b" for name, words in _TOPICS.items()), re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    line: int
    topic: str
    hours: float
    said: str  # "6 hours", as written
    sentence: str


def facts(numbered):
    """Every number of hours or days with what it is about, from the nearest topic word before
    it; a number with none before it ("48 hours (2 days)") takes the topic of the number before,
    and the first number of a sentence may take the topic word after it ("For 5 days, no bath")."""
    found = []
    for number, sentence in sentences(numbered):
        durations = list(_DURATION.finditer(sentence))
        previous_topic, previous_end = None, 0
        for index, duration in enumerate(durations):
            before = list(_TOPIC.finditer(sentence, previous_end, duration.start()))
            topic = before[-1].lastgroup if before else previous_topic
            if topic is None:
                end = durations[index + 1].start() if index + 1 < len(durations) else len(sentence)
                after = _TOPIC.search(sentence, duration.end(), end)
                topic = after.lastgroup if after else None
            previous_topic, previous_end = topic, duration.end()
            if topic:
                unit = duration.group(2).lower().rstrip("s")
                found.append(
                    Fact(
                        number, topic, float(duration.group(1)) * _HOURS_IN[unit], duration.group(0), sentence
                    )
                )
    return found


def _in_days(hours):
    return f"{hours / 24:g} days" if hours % 24 == 0 and hours >= 48 else f"{hours:g} hours"


def check_house_rules(meta, sections, style):
    """[(line, message)] where a leaflet contradicts the house rules for its `sedation` and
    `puncture`. `sections` is {field: numbered lines}; front-matter problems come back with the
    key they concern instead of a line, as ("key", message)."""
    problems = []
    sedation, puncture = meta.get("sedation"), meta.get("puncture")
    preparation = [*sections.get("key_points", []), *sections.get("before", [])]
    going_home = [
        line
        for field in ("key_points", "before", "during", "after", "results")
        for line in sections.get(field, [])
    ]

    fasting = style.fasting.get(sedation)
    if fasting is not None:
        label = f'sedation = "{sedation}"'
        wanted = {"food": fasting.get("food_hours"), "fluids": fasting.get("clear_fluids_hours")}
        for key, topic in (("food_hours", "food"), ("clear_fluids_hours", "fluids")):
            if not fasting["fast"] and meta.get(key) is not None:
                problems.append(
                    (
                        key,
                        f"'{key}' is set, but a leaflet with {label} eats and drinks as "
                        "normal (house style): remove it",
                    )
                )
            elif fasting["fast"] and meta.get(key) != wanted[topic]:
                problems.append((key, f"'{key}' must be {wanted[topic]} for {label} (house style)"))
        for fact in facts(preparation):
            if fact.topic not in ("food", "fluids"):
                continue
            if not re.search(r"\bbefore\b|\bfast", fact.sentence, re.IGNORECASE):
                continue
            if not fasting["fast"]:
                problems.append(
                    (
                        fact.line,
                        f"says {fact.said} without {fact.topic} before, but with "
                        f'{label} you eat and drink as normal: "{_quote(fact.sentence)}"',
                    )
                )
            elif fact.hours != wanted[fact.topic]:
                what = "food" if fact.topic == "food" else "clear fluids"
                problems.append(
                    (
                        fact.line,
                        f"says {fact.said} for {what}; the house rule for {label} is "
                        f'{wanted[fact.topic]:g} hours: "{_quote(fact.sentence)}"',
                    )
                )

    home_facts = facts(going_home)
    sedated = sedation in style.after_sedation["applies_to"]
    artery = puncture == "artery"
    escort_hours = style.after_sedation["escort_hours"]
    if sedated:
        # "An adult must take you home. They must stay with you for 24 hours." is two sentences.
        said = [s for _, s in sentences(going_home)]
        if not (
            any(re.search(r"\badult\b", s, re.I) for s in said)
            and any(
                re.search(r"\badult\b|\bstays? with you\b", s, re.I)
                and re.search(rf"\b{escort_hours} hours\b", s)
                for s in said
            )
        ):
            problems.append(
                (
                    0,
                    f"does not say that an adult takes you home and stays with you for "
                    f"{escort_hours} hours (house style after sedation)",
                )
            )
        if not any(re.search(r"\bdriv", s, re.I) for _, s in sentences(going_home)):
            problems.append(
                (
                    0,
                    f"does not say when you can drive (house style: not for "
                    f"{style.after_sedation['no_driving_hours']} hours after sedation)",
                )
            )
        for fact in home_facts:
            if fact.topic == "escort" and fact.hours != escort_hours and "stay" in fact.sentence.lower():
                problems.append(
                    (
                        fact.line,
                        f"says {fact.said} for someone to stay with you; the house "
                        f'rule is {escort_hours} hours: "{_quote(fact.sentence)}"',
                    )
                )
    minimum = {
        "driving": style.after_artery["no_driving_hours"]
        if artery
        else style.after_sedation["no_driving_hours"]
        if sedated
        else None,
        "bath": style.after_artery["no_bath_days"] * 24 if artery else None,
        "lifting": style.after_artery["no_heavy_lifting_days"] * 24 if artery else None,
        "shower": style.after_artery["shower_after_hours"] if artery else None,
    }
    why = {
        "driving": "after an artery puncture" if artery else "after sedation",
        "bath": "after an artery puncture",
        "lifting": "after an artery puncture",
        "shower": "after an artery puncture",
    }
    for fact in home_facts:
        least = minimum.get(fact.topic)
        if least is not None and fact.hours < least:
            problems.append(
                (
                    fact.line,
                    f"says {fact.said} for {fact.topic}; the house rule {why[fact.topic]} "
                    f'is at least {_in_days(least)}: "{_quote(fact.sentence)}"',
                )
            )
    if artery and not any(fact.topic == "bath" for fact in home_facts):
        problems.append(
            (
                0,
                f"does not say when you can have a bath or swim (house style after an artery "
                f"puncture: not for {style.after_artery['no_bath_days']} days)",
            )
        )
    return problems
