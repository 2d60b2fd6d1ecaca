"""Words that mark a stance (demand, offer, support, refusal, threat, condition) and how strongly.

These are rules of English, not facts about any story, so they live in code. A cue's *direction*
is the actor's attitude to what the cue phrase names: "refused to lift sanctions" is *against*
lifting; "is unwilling to offer guarantees" is *against* offering; any condition marker in the
sentence ("in exchange for", "unless") makes the stance *conditional*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# kind -> regex (case-insensitive, whole words). Order matters only for documentation.
CUE_PATTERNS: dict[str, str] = {
    "demand": (
        r"demand\w*|call(?:s|ed|ing)?\s+(?:for|on)|insist\w*|seek\w*|sought|wants?|wanted|wanting"
        r"|urg(?:e|es|ed|ing)|press(?:es|ed|ing)?\s+for|push(?:es|ed|ing)?\s+for|requir(?:e|es|ed|ing)"
        r"|ask(?:s|ed|ing)?\s+for|expects?\s+to|aims?\s+to|hopes?\s+to"
    ),
    "offer": (
        r"offer\w*|propos\w*|agree(?:s|d)?\s+to|agreed|willing(?:ness)?\s+to|ready\s+to|open\s+to"
        r"|promis\w*|pledg\w*|commit(?:s|ted|ting|ment|ments)?|accept\w*|would\s+consider"
    ),
    "support": (
        r"support\w*|endors\w*|favou?r(?:s|ed|ing)?|welcom\w*|advocat\w*|recogni[sz](?:e|es|ed|ing)"
        r"|believes?\s+in|backs|backed|backing"
    ),
    "refuse": (
        r"refus\w*|reject\w*|rul(?:e|es|ed|ing)\s+out|unwilling\w*|oppos(?:e|es|ed|ing|ition)"
        r"|resist\w*|declin(?:e|es|ed|ing)\s+to|reluctan\w*|den(?:y|ies|ied)|veto\w*|dismiss\w*"
        r"|balk\w*|won't|will\s+not|give\s+up|gave\s+up|giving\s+up|abandon\w*|block(?:s|ed|ing)?"
    ),
    "threat": (
        r"threat\w*|warn\w*|impos(?:e|es|ing)|retaliat\w*|pressur\w*|cripple\w*|punish\w*"
    ),
    "condition": (
        r"in\s+exchange\s+for|in\s+return(?:\s+for)?|unless|on\s+condition\s+that|provided\s+that"
        r"|as\s+long\s+as|only\s+if|conditional\s+on|conditioned\s+on|in\s+a\s+trade\s+for"
    ),
}

_CUE_RE = re.compile(
    "|".join(rf"(?P<{k}>(?<![\w\-])(?:{p})(?![\w\-]))" for k, p in CUE_PATTERNS.items()),
    re.IGNORECASE,
)

NEGATORS = {"not", "no", "never", "without", "cannot", "hardly", "nor", "neither", "nothing"}
NEGATIVE_KINDS = {"refuse"}

MODAL_RE = re.compile(
    r"(?<![\w])(?:should|must|ought\s+to|has\s+to|have\s+to|needs\s+to|need\s+to)(?![\w])", re.I
)
"""An actor that "should" or "must" do something is being asked to by someone else."""

SALIENCE_UP = (
    r"insist\w*|red\s+lines?|non-negotiable|top\s+priority|priorit\w*|crucial|vital|essential"
    r"|existential|at\s+any\s+cost|above\s+all|firmly|repeatedly|long\s+sought|long\s+demanded"
    r"|determined|never|core|key|central|adamant\w*|categorical\w*|keen"
)
SALIENCE_DOWN = (
    r"flexib\w*|might|may|could|open\s+to|willing\s+to\s+consider|reluctan\w*|secondary"
    r"|not\s+a\s+priority|symbolic|for\s+now"
)
_SAL_RE = re.compile(
    rf"(?P<up>(?<![\w\-])(?:{SALIENCE_UP})(?![\w\-]))"
    rf"|(?P<down>(?<![\w\-])(?:{SALIENCE_DOWN})(?![\w\-]))",
    re.I,
)

CLAUSE_BREAK = re.compile(
    r";|—|–|\s-\s|\(|\)|,\s*(?:while|but|whereas|although|though|yet)\b|\bwhile\b|\bbut\b"
)


_CAPACITY = re.compile(r"(?<![\w])(?:tools|means|ability|power|leverage|capacity)\s+to\s+$", re.I)


@dataclass(frozen=True)
class Cue:
    """One stance word in a sentence, after chains such as "unwilling to offer" are folded."""

    start: int
    end: int
    kind: str
    text: str
    negated: bool = False  # odd number of negations (a negator before it, or a folded refusal)

    @property
    def direction(self) -> str:
        if self.kind == "condition":
            return "conditional"
        negative = (self.kind in NEGATIVE_KINDS) != self.negated
        return "against" if negative else "for"


def find_cues(sentence: str) -> list[Cue]:
    """Stance cues in a sentence, with "X to Y" chains folded into the first cue."""
    sentence = sentence.replace("’", "'")  # same length: offsets stay valid
    raw = [(m.start(), m.end(), m.lastgroup or "", m.group(0)) for m in _CUE_RE.finditer(sentence)]
    out: list[Cue] = []
    for start, end, kind, text in raw:
        if _CAPACITY.search(sentence, max(0, start - 30), start):
            continue  # "has the tools to pressure": an ability, not a stance
        neg = _negated(sentence, start)
        if out and kind != "condition" and out[-1].kind != "condition":
            prev = out[-1]
            gap = sentence[prev.end : start]
            chained = len(gap) <= 16 and re.fullmatch(r"\s*(?:to|to\s+\w+|on|in|for)?\s*", gap, re.I)
            # a refusal or negation reaches further: "reluctant to adopt a pressure strategy"
            scoped = (
                (prev.kind in NEGATIVE_KINDS or prev.negated)
                and len(gap) <= 40
                and not re.search(r"[,;:.—–()]|\band\b|\bbut\b", gap)
            )
            if chained or scoped:
                flips = (kind in NEGATIVE_KINDS) != neg
                out[-1] = Cue(prev.start, end, prev.kind, sentence[prev.start : end], prev.negated != flips)
                continue
        out.append(Cue(start, end, kind, text, neg))
    return out


def _negated(sentence: str, start: int) -> bool:
    before = sentence[max(0, start - 40) : start]
    cut = list(CLAUSE_BREAK.finditer(before))
    if cut:
        before = before[cut[-1].end() :]
    words = re.findall(r"[\w']+", before.lower())[-3:]
    return any(w in NEGATORS or w.endswith("n't") for w in words) or "lack of" in before.lower()


def has_cue(sentence: str) -> bool:
    """Whether a sentence contains any stance cue (cheap test before parsing it)."""
    return _CUE_RE.search(sentence.replace("’", "'")) is not None


def has_condition(cues: list[Cue]) -> bool:
    return any(c.kind == "condition" for c in cues)


def salience_words(sentence: str) -> tuple[list[str], list[str]]:
    """Words that suggest the issue matters more (first list) or less (second list)."""
    up, down = [], []
    for m in _SAL_RE.finditer(sentence):
        word = " ".join(m.group(0).lower().split())
        (up if m.lastgroup == "up" else down).append(word)
    return sorted(set(up)), sorted(set(down))


def clause_end(sentence: str, pos: int) -> int:
    """Where the clause that contains `pos` ends (next clause break or the sentence end)."""
    m = CLAUSE_BREAK.search(sentence, pos)
    return m.start() if m else len(sentence)


def clause_start(sentence: str, pos: int) -> int:
    """Where the clause that contains `pos` starts."""
    last = 0
    for m in CLAUSE_BREAK.finditer(sentence, 0, pos):
        last = m.end()
    return last
