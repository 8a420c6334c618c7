"""Words of the ``rules`` back end: normalisation, phrase tables and the scene's region phrases.

The task is lower-cased, contractions and possessives are undone, number words become digits and
durations ("in under a minute", "90s", "half a minute") become one token each. Then the words are
matched greedily, longest phrase first, against the grammar's phrases and the scene's region names,
aliases and unambiguous partial names ("docking" -> dock). Anything left over is not understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

REACH, VIA, AVOID, SEQ, EITHER, OR, DWELL, FOR, SPEED, REGION, NUM, UNIT, DUR, FILLER, DEADLINE, HOLD = [
    "reach",
    "via",
    "avoid",
    "seq",
    "either",
    "or",
    "dwell",
    "for",
    "speed",
    "region",
    "num",
    "unit",
    "dur",
    "filler",
    "deadline",
    "hold",
]


def _phrases(kind: str, text: str, value: object = None) -> dict[tuple[str, ...], tuple[str, object]]:
    return {tuple(p.split()): (kind, value) for p in text.split("|")}


GRAMMAR: dict[tuple[str, ...], tuple[str, object]] = {
    **_phrases(
        REACH,
        "go|go to|head|head to|head over to|head for|drive|drive to|drive over to|drive into|get to|"
        "return to|return|go back to|come back to|back to|come to|move to|navigate to|proceed to|travel to|"
        "visit|reach|go into|go over to|go on to|enter|make your way to|stop by|stop at|run to|roll to|to|"
        "into|find your way to|continue to|carry on to",
    ),
    **_phrases(VIA, "via|through|go through|pass through|drive through|by way of|passing through"),
    **_phrases(
        AVOID,
        "avoid|avoiding|keep out of|keeping out of|stay out of|staying out of|stay away from|"
        "keep away from|keeping away from|without entering|without going into|without going through|"
        "without passing through|without driving through|do not enter|never enter|do not go into|"
        "do not go through|not through|never go into|steer clear of|while avoiding|but avoid|"
        "do not drive through",
    ),
    **_phrases(
        SEQ,
        "then|and then|after that|afterwards|after this|finally|and finally|first|firstly|next|and|,|"
        "followed by|lastly|last|once there|once you are there|when you are done|after which|"
        "and after that|then finally|secondly|third",
    ),
    **_phrases(EITHER, "either"),
    **_phrases(OR, "or|or else"),
    **_phrases(
        DWELL,
        "stay|wait|remain|pause|linger|hold|park|stop|stay there|wait there|remain there|pause there|"
        "stop there|park there|hold there|stay put|wait around|hang around",
    ),
    **_phrases(FOR, "for|for about|for at least"),
    **_phrases(SPEED, "slowly|carefully|gently|at low speed", 0.5),
    **_phrases(
        SPEED,
        "quickly|fast|at full speed|at top speed|as fast as possible|as quickly as possible|asap|"
        "at maximum speed|right away|immediately|now|straight away",
        None,
    ),
    **_phrases(
        FILLER,
        "the|a|an|please|robot|there|over|you|can|could|would|will|i|want|need|like|me|us|lets|let us|"
        "kindly|ok|okay|hey|my|our|your|its|it|room|area|zone|space|straight|directly|all|way|also|"
        "again|just|in|at|of|by|is|are|be|same|inside|place|spot|end|up|on|from|here|too|as well|"
        "once|side",
    ),
    **_phrases(DEADLINE, "within|in under|in less than|under|less than|no later than|before|in at most|"
               "at most|taking at most|in no more than|no more than"),
}  # fmt: skip
# "in"/"by" (fillers) are deadlines when a duration follows them (resolved in `_durations`).
_UNITS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
}  # fmt: skip
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
_ONES += "sixteen seventeen eighteen nineteen"
_NUMBERS = {w: i for i, w in enumerate(_ONES.split())}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_CONTRACTIONS = {"don't": "do not", "dont": "do not", "let's": "lets", "you're": "you are", "it's": "it is"}


class Token(NamedTuple):
    kind: str
    value: object
    text: str


def normalize(text: str) -> list[str]:
    """Lower-case words with punctuation, contractions, possessives and number words handled."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for k, v in _CONTRACTIONS.items():
        t = re.sub(rf"\b{re.escape(k)}(?!\w)", v, t)
    t = re.sub(r"(\w)'s\b", r"\1", t)
    t = re.sub(r"\b(a|an|one)\s+(minute|hour|second)\s+and\s+a\s+half\b", r"1.5 \2s", t)
    t = re.sub(r"\bhalf\s+(a|an)\s+(minute|hour)\b", r"0.5 \2s", t)
    t = re.sub(r"\b(a|an)\s+(minute|hour|second)\b", r"1 \2", t)
    t = re.sub(r"(\d)([a-z])", r"\1 \2", t)
    t = re.sub(r"[,;:.!?](?!\d)", " , ", t)
    t = re.sub(r"[^a-z0-9.,_ ]+", " ", t)
    words = [w.strip(".") or w for w in t.split()]
    out: list[str] = []
    for w in words:  # "twenty five" -> 25
        if w in _NUMBERS and out and out[-1].isdigit() and int(out[-1]) in _TENS.values():
            out[-1] = str(int(out[-1]) + _NUMBERS[w])
        elif w in _NUMBERS or w in _TENS:
            out.append(str(_NUMBERS.get(w, _TENS.get(w))))
        elif w:
            out.append(w)
    return out


def region_phrases(regions: Iterable[tuple[str, Iterable[str]]]) -> dict[tuple[str, ...], str]:
    """Phrase -> region name: names (``_`` as space), aliases, and partial names unique to one region.

    Args:
        regions: (name, aliases) pairs of the scene's regions.
    """
    full: dict[tuple[str, ...], str] = {}
    words: dict[str, set[str]] = {}
    for name, aliases in regions:
        for phrase in (name, name.replace("_", " "), *aliases):
            key = tuple(normalize(phrase))
            if key:
                full[key] = name
                for w in key:
                    words.setdefault(w, set()).add(name)
    for w, owners in words.items():
        key = (w,)
        if len(owners) == 1 and len(w) >= 4 and key not in GRAMMAR and key not in full:
            full[key] = next(iter(owners))
    return full


class Lexicon:
    """The grammar's phrases merged with one scene's region phrases (build once per scene)."""

    def __init__(self, regions: dict[tuple[str, ...], str]) -> None:
        self.regions = regions
        self.table: dict[tuple[str, ...], tuple[str, object]] = dict(GRAMMAR)
        self.table.update({k: (REGION, v) for k, v in regions.items()})
        self.longest: dict[str, int] = {}
        for key in self.table:
            self.longest[key[0]] = max(self.longest.get(key[0], 0), len(key))


_NUMBER = re.compile(r"\d+(\.\d+)?")


def tokenize(words: list[str], lexicon: Lexicon) -> list[Token]:
    """Greedy longest-phrase match; region phrases win ties; unknown words get kind ``unknown``."""
    table = lexicon.table
    out: list[Token] = []
    i = 0
    while i < len(words):
        w = words[i]
        if _NUMBER.fullmatch(w):
            out.append(Token(NUM, float(w), w))
            i += 1
            continue
        if w in _UNITS:
            out.append(Token(UNIT, _UNITS[w], w))
            i += 1
            continue
        for n in range(min(lexicon.longest.get(w, 0), len(words) - i), 0, -1):
            key = tuple(words[i : i + n])
            if key in table:
                kind, value = table[key]
                out.append(Token(kind, value, " ".join(key)))
                i += n
                break
        else:
            out.append(Token("unknown", None, w))
            i += 1
    return _durations(out)


def _durations(tokens: list[Token]) -> list[Token]:
    """NUM UNIT -> DUR; DEADLINE DUR -> DEADLINE(value); FOR DUR / DWELL DUR -> HOLD(value)."""
    merged: list[Token] = []
    for tok in tokens:
        if tok.kind == UNIT and merged and merged[-1].kind == NUM:
            num = merged.pop()
            merged.append(Token(DUR, float(num.value) * float(tok.value), f"{num.text} {tok.text}"))
        else:
            merged.append(tok)
    out: list[Token] = []
    for tok in merged:
        prev = out[-1] if out else None
        if (tok.kind == DUR and prev is not None and prev.kind == FILLER and prev.text in ("in", "by")) or (
            tok.kind == DUR and prev is not None and prev.kind == DEADLINE and prev.value is None
        ):
            out[-1] = Token(DEADLINE, tok.value, f"{prev.text} {tok.text}")
        elif tok.kind == DUR and prev is not None and prev.kind == FOR:
            out[-1] = Token(HOLD, tok.value, f"{prev.text} {tok.text}")
        elif tok.kind == DUR and prev is not None and prev.kind == DWELL:
            out.append(Token(HOLD, tok.value, tok.text))
        else:
            out.append(tok)
    return out
