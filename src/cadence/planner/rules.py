"""The ``rules`` back end: a deterministic parser for the task language people type (issue 5).

No network, no model. Grammar (phrases in :mod:`cadence.planner.rules_lexicon`):

* reach: "go to / head to / drive over to / get to / return to ... REGION"; a bare region after a
  sequence word counts too ("then the office");
* pass through: "via / through REGION" becomes a subgoal before the clause's destination;
* sequence: "then", "and then", "after that", "finally", "first ... then ...", commas, "and";
* deadlines: "within 60 seconds", "in under a minute", "within 90 s", "in 2 minutes" attach to the
  subgoal of their clause (a deadline before any destination applies to the last one); deadlines
  are absolute, seconds since the task started;
* dwell: "stay / wait / remain (there | in REGION) for 5 seconds";
* avoidance: "avoid / keep out of / stay away from / without entering REGION (and REGION)";
* choice: "either REGION or REGION", "REGION or REGION";
* speed: "slowly / carefully" halves the speed limit; "quickly / at full speed" keep the rover's
  limit (never above it).

Region names, aliases and partial names come from the scene, case and punctuation insensitive. A
word the grammar does not know raises :class:`TaskNotUnderstood` naming it and the closest region
names: never a silent guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cadence.planner import rules_lexicon as lx
from cadence.planner.errors import TaskNotUnderstood
from cadence.planner.intent import Intent, Step

if TYPE_CHECKING:
    from cadence.planner.backends import PlanRequest
    from cadence.planner.scene import Scene


@dataclass
class _Draft:
    regions: list[str]
    deadline: float | None = None
    hold: float = 0.0


@dataclass
class _State:
    steps: list[_Draft] = field(default_factory=list)
    avoid: list[str] = field(default_factory=list)
    mode: str = "reach"
    clause_start: int = 0
    choice: bool = False
    dwell_target: _Draft | None = None
    pending_deadline: float | None = None
    clause_deadline: float | None = None
    v_max: float | None = None


def closest_regions(word: str, phrases: dict[tuple[str, ...], str], n: int = 3) -> tuple[str, ...]:
    """Region names whose names or aliases look most like `word`, best first."""
    by_text = {" ".join(k): v for k, v in phrases.items()}
    matches = difflib.get_close_matches(word, list(by_text), n=8, cutoff=0.7)
    return tuple(dict.fromkeys(by_text[m] for m in matches))[:n]


def lexicon_for(scene: Scene) -> lx.Lexicon:
    """The rules lexicon of a scene (its region names, aliases and partial names)."""
    return lx.Lexicon(lx.region_phrases((r.name, r.aliases) for r in scene.regions))


def parse_task(task: str, scene: Scene, lexicon: lx.Lexicon | None = None) -> Intent:
    """Read a task into an :class:`Intent` (see the module docstring for the grammar).

    Raises:
        TaskNotUnderstood: naming the words not understood and the closest region names.
    """
    lexicon = lexicon if lexicon is not None else lexicon_for(scene)
    tokens = lx.tokenize(lx.normalize(task), lexicon)
    _reject_unknown(task, tokens, lexicon.regions, scene)
    st = _State()
    for tok in tokens:
        _step(st, tok, task)
    if not st.steps:
        raise TaskNotUnderstood(
            f"did not find a destination in {task!r}; say where to go, e.g. 'go to the "
            f"{scene.region_names[0]}' (regions: {', '.join(scene.region_names)})"
        )
    for late in (st.pending_deadline, st.clause_deadline):
        if late is not None:
            _set_deadline(st, st.steps[-1], late, task)
    steps = tuple(Step(tuple(dict.fromkeys(d.regions)), d.deadline, d.hold) for d in st.steps)
    return Intent(steps=steps, avoid=tuple(dict.fromkeys(st.avoid)), v_max=st.v_max)


def _not_understood(tok: lx.Token) -> bool:
    """Unknown words, and grammar words left without what they need (a number with no unit,
    "within" with no duration, "for" with no duration)."""
    return tok.kind in ("unknown", lx.NUM, lx.UNIT, lx.DUR, lx.FOR) or (
        tok.kind == lx.DEADLINE and tok.value is None
    )


def _reject_unknown(
    task: str, tokens: list[lx.Token], phrases: dict[tuple[str, ...], str], scene: Scene
) -> None:
    runs: list[list[str]] = []  # consecutive words not understood
    previous_bad = False
    for tok in tokens:
        bad = _not_understood(tok)
        if bad and previous_bad:
            runs[-1].append(tok.text)
        elif bad:
            runs.append([tok.text])
        previous_bad = bad
    if not runs:
        return
    phrase = " ".join(runs[0])
    closest: tuple[str, ...] = ()
    for word in runs[0]:
        closest = closest or closest_regions(word, phrases)
    hint = (
        f"closest region names: {', '.join(closest)}"
        if closest
        else f"regions in {scene.name}: {', '.join(scene.region_names)}"
    )
    others = "".join(f", {' '.join(r)!r}" for r in runs[1:4]) + (", ..." if len(runs) > 4 else "")
    raise TaskNotUnderstood(f"did not understand {phrase!r}{others} in {task!r}; {hint}", phrase, closest)


def _set_deadline(st: _State, draft: _Draft, seconds: float, task: str) -> None:
    if draft.deadline is not None and draft.deadline != seconds:
        raise TaskNotUnderstood(
            f"two deadlines ({draft.deadline:g} s and {seconds:g} s) for {' or '.join(draft.regions)} in {task!r}"
        )
    draft.deadline = seconds


def _step(st: _State, tok: lx.Token, task: str) -> None:
    kind = tok.kind
    if kind in (lx.REACH, lx.VIA, lx.AVOID):
        st.mode, st.choice = kind, False
    elif kind == lx.DWELL:
        st.mode, st.choice = lx.DWELL, False
        st.dwell_target = st.steps[-1] if st.steps else None
    elif kind == lx.SEQ:
        st.choice = False
        st.clause_start = len(st.steps)
        if tok.text not in ("and", ","):
            st.mode = lx.REACH  # "then the office": a bare region after a sequence word is a goal
    elif kind == lx.EITHER:
        st.choice = False
        if st.mode not in (lx.AVOID, lx.VIA):
            st.mode = lx.REACH
    elif kind == lx.OR:
        st.choice = True
    elif kind == lx.SPEED:
        st.v_max = tok.value if isinstance(tok.value, float) else st.v_max
    elif kind == lx.DEADLINE:
        if not st.steps:
            st.pending_deadline = float(tok.value)  # "within a minute, go to A then B": the whole task
        elif len(st.steps) > st.clause_start:
            _set_deadline(st, st.steps[-1], float(tok.value), task)
        else:
            st.clause_deadline = float(tok.value)  # "then within 30 s go to B": the clause's goal
    elif kind == lx.HOLD:
        target = st.dwell_target or (st.steps[-1] if st.steps else None)
        if target is None:
            raise TaskNotUnderstood(f"{tok.text!r} in {task!r}: stay where? name a region first")
        target.hold += float(tok.value)
    elif kind == lx.REGION:
        _region(st, str(tok.value))


def _region(st: _State, name: str) -> None:
    if st.mode == lx.AVOID:
        st.avoid.append(name)
        return
    if st.choice and st.steps:
        st.steps[-1].regions.append(name)
        st.choice = False
        return
    if st.mode == lx.DWELL:
        if st.dwell_target is not None and name in st.dwell_target.regions:
            return
        st.dwell_target = _Draft([name])
        st.steps.append(st.dwell_target)
        return
    draft = _Draft([name], deadline=st.clause_deadline)
    st.clause_deadline = None
    if st.mode == lx.VIA and len(st.steps) > st.clause_start:
        st.steps.insert(len(st.steps) - 1, draft)  # "to the office via the hallway"
    else:
        st.steps.append(draft)
    if st.mode == lx.VIA:
        st.mode = lx.REACH


class RulesBackend:
    """The embedded default back end (deterministic; one attempt; ignores images)."""

    name = "rules"
    max_attempts = 1

    def __init__(self) -> None:
        self._lexicons: dict[tuple, lx.Lexicon] = {}

    def propose(self, request: PlanRequest, feedback: str | None = None) -> Intent:
        """Parse ``request.task`` against ``request.scene`` (``feedback`` is ignored: rules are exact)."""
        scene = request.scene
        key = (scene.name, scene.regions)
        if key not in self._lexicons:
            self._lexicons[key] = lexicon_for(scene)
        return parse_task(request.task, scene, self._lexicons[key])
