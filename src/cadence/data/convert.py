"""``cadence bag convert``: bags -> dataset, one bag at a time, streaming (issue 8).

Each bag is read once, message by message. An episode starts at every ``plan`` message (the ``task``
text that precedes it is kept) and is aligned and written as soon as the next plan or the end of
the bag arrives, so memory is bounded by one episode, not by the bag. A bag that fails (damaged
storage, count mismatch, no usable episode) is reported and its episodes are discarded; the run
continues with the other bags and the dataset is moved into place only at the end.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadence.data import cdr
from cadence.data.align import AlignConfig, EpisodeBuffer, reconstruct
from cadence.data.bag import BagReader, Message, Sampler
from cadence.data.dataset import DatasetWriter
from cadence.data.errors import BagContentError, DataError
from cadence.data.messages import (
    TOPICS,
    odom_sample,
    scan_sample,
    sequence_sample,
    topic_key,
)

# Types turned into core samples while reading (fast CDR parsers, rosbags as the fallback).
SAMPLERS = {
    "nav_msgs/msg/Odometry": Sampler(cdr.odom, odom_sample),
    "sensor_msgs/msg/LaserScan": Sampler(cdr.scan, scan_sample),
    "geometry_msgs/msg/Twist": Sampler(
        cdr.twist, lambda m, t: (t * 1e-9, float(m.linear.x), float(m.angular.z))
    ),
    "std_msgs/msg/Float32": Sampler(cdr.float32, lambda m, t: (t * 1e-9, float(m.data))),
}


@dataclass
class BagReport:
    """What happened to one bag."""

    path: str
    ok: bool = True
    error: str | None = None
    messages: int = 0
    episodes: int = 0
    transitions: int = 0
    dropped: Counter[str] = field(default_factory=Counter)  # decisions not turned into transitions
    anomalies: Counter[str] = field(default_factory=Counter)  # samples discarded while reading


@dataclass
class ConvertReport:
    """The summary ``cadence bag convert`` prints."""

    out: str | None
    bags: list[BagReport]

    @property
    def episodes(self) -> int:
        return sum(b.episodes for b in self.bags if b.ok)

    @property
    def transitions(self) -> int:
        return sum(b.transitions for b in self.bags if b.ok)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "out": self.out,
            "episodes": self.episodes,
            "transitions": self.transitions,
            "bags": [
                {**vars(b), "dropped": dict(b.dropped), "anomalies": dict(b.anomalies)} for b in self.bags
            ],
        }

    def format(self) -> str:
        """Human-readable report: per bag, episodes, transitions, dropped segments and why."""
        lines = []
        for b in self.bags:
            head = f"{b.path}: " + (
                f"{b.episodes} episodes, {b.transitions} transitions, {b.messages} messages"
                if b.ok
                else f"FAILED: {b.error}"
            )
            lines.append(head)
            lines += [f"  dropped {n} decision(s): {why}" for why, n in sorted(b.dropped.items())]
            lines += [f"  discarded {n} sample(s): {why}" for why, n in sorted(b.anomalies.items())]
        failed = sum(not b.ok for b in self.bags)
        where = f" -> {self.out}" if self.out else " (nothing written)"
        lines.append(
            f"total: {self.episodes} episodes, {self.transitions} transitions from "
            f"{len(self.bags) - failed} of {len(self.bags)} bags{where}"
        )
        return "\n".join(lines)


class _BagConverter:
    """Turns the messages of one bag into episodes written to ``writer``."""

    def __init__(
        self, path: Path, writer: DatasetWriter, cfg: AlignConfig, scene: str | None, report: BagReport
    ):
        from cadence.policy.observation import ObservationBuilder

        self.path, self.writer, self.cfg, self.scene_override, self.report = path, writer, cfg, scene, report
        self.builder = ObservationBuilder()
        self.task = ""
        self.episode: EpisodeBuffer | None = None
        self.last_stamp: dict[str, float] = {}
        self._scenes: dict[str, Any] = {}

    def feed(self, m: Message) -> None:
        key = topic_key(m.topic)
        if key == "task":
            self.finish()
            self.task = m.msg.data
        elif key == "plan":
            self.finish()
            self._start(m)
        elif self.episode is None:
            self.report.anomalies[f"{key}: before the first plan"] += 1
        else:
            self._sample(key, m)

    def _start(self, m: Message) -> None:
        from cadence.planner.errors import PlannerError
        from cadence.planner.plan import Plan

        try:
            plan = Plan.from_json(m.msg.data)
        except PlannerError as err:
            self.report.anomalies[f"plan: malformed ({err})"] += 1
            return
        self.last_stamp.clear()
        self.episode = EpisodeBuffer(
            str(self.path), self.task or plan.task, plan, m.log_time_ns * 1e-9, m.log_time_ns
        )

    def _sample(self, key: str, m: Message) -> None:
        ep = self.episode
        assert ep is not None
        s = m.msg  # already a core sample for the types in SAMPLERS
        if key == "odom":
            if not (math.isfinite(s.x) and math.isfinite(s.y) and math.isfinite(s.yaw)) or not (
                math.isfinite(s.v) and math.isfinite(s.omega)
            ):
                self.report.anomalies["odom: non-finite value (NaN/inf)"] += 1
            elif self._in_order(key, s.t):
                ep.odom.append(s)
        elif key == "scan":
            if self._in_order(key, s.t):
                ep.scan.append(s)
        elif key == "cmd_vel":
            if not (math.isfinite(s[1]) and math.isfinite(s[2])):
                self.report.anomalies["cmd_vel: non-finite value (NaN/inf)"] += 1
            elif self._in_order(key, s[0]):
                ep.cmd.append(s)
        elif key == "executor/sequence":
            try:
                seq = sequence_sample(s, m.log_time_ns)
            except ValueError as err:
                self.report.anomalies[f"executor/sequence: {err}"] += 1
                return
            if self._in_order(key, seq.t):
                ep.seq.append(seq)
        elif key == "critic/progress":
            if not math.isfinite(s[1]):
                self.report.anomalies["critic/progress: non-finite value"] += 1
            elif self._in_order(key, s[0]):
                ep.progress.append(s)

    def _in_order(self, key: str, t: float) -> bool:
        last = self.last_stamp.get(key)
        if last is not None and t == last:
            self.report.anomalies[f"{key}: duplicate stamp"] += 1
            return False
        if last is not None and t < last:
            self.report.anomalies[f"{key}: stamp earlier than the previous one (non-monotonic)"] += 1
            return False
        self.last_stamp[key] = t
        return True

    def finish(self) -> None:
        ep, self.episode = self.episode, None
        if ep is None:
            return
        scene = self._scene(ep.plan.scene)
        if scene is None:
            self.report.dropped[f"unknown scene {ep.plan.scene!r}"] += max(len(ep.seq), 1)
            return
        try:
            result = reconstruct(ep, scene, self.cfg, self.builder)
        except ValueError as err:  # a plan naming regions the scene lacks, an empty route, ...
            self.report.dropped[f"episode does not fit its scene: {err}"] += max(len(ep.seq), 1)
            return
        self.report.dropped.update(result.dropped)
        if result.columns:
            self.writer.add_episode(result.columns, result.meta)
            self.report.episodes += 1
            self.report.transitions += len(result.columns["t"])

    def _scene(self, name: str) -> Any:
        from cadence.planner.errors import SceneError
        from cadence.planner.scene import load_scene

        if name not in self._scenes:
            try:
                self._scenes[name] = load_scene(name)
            except (SceneError, ValueError, FileNotFoundError):
                self._scenes[name] = load_scene(self.scene_override) if self.scene_override else None
        return self._scenes[name]


def convert_bags(
    bags: list[str | Path],
    out: str | Path,
    *,
    scene: str | None = None,
    progress: bool = False,
    cfg: AlignConfig | None = None,
) -> ConvertReport:
    """Convert bags to a dataset at ``out`` (created atomically).

    Args:
        bags: Bag folders.
        out: Dataset folder to create; must not exist.
        scene: Scene to use when a plan names one this install does not have.
        progress: Show a progress bar (stderr).
        cfg: Alignment and reward settings.

    Returns:
        The report; ``out`` is ``None`` in it when no episode could be converted (nothing written).

    Raises:
        DatasetError: ``out`` exists.
    """
    from cadence.policy.observation import DEFAULT_LAYOUT

    cfg = cfg or AlignConfig()
    extra = {"observation_layout": DEFAULT_LAYOUT.to_dict(), "align": vars(cfg), "topics": TOPICS}
    writer = DatasetWriter(out, DEFAULT_LAYOUT.obs_dim, cfg.k, cfg.control_dt, extra=extra)
    reports = []
    try:
        for path in bags:
            reports.append(_convert_one(Path(path), writer, cfg, scene, progress))
        if not writer.episodes:
            writer.abort()
            return ConvertReport(None, reports)
        writer.commit([str(b.path) for b in reports if b.ok])
    except BaseException:
        writer.abort()
        raise
    return ConvertReport(str(out), reports)


def _convert_one(
    path: Path, writer: DatasetWriter, cfg: AlignConfig, scene: str | None, progress: bool
) -> BagReport:
    report = BagReport(str(path))
    first = len(writer.episodes)
    try:
        with BagReader(path) as bag:
            wanted = [t for t, typ in bag.topic_types().items() if TOPICS.get(topic_key(t)) == typ]
            for t, typ in bag.topic_types().items():
                if topic_key(t) in TOPICS and t not in wanted:
                    report.anomalies[f"{t}: type {typ}, expected {TOPICS[topic_key(t)]}; not used"] += 1
            if not any(
                n for (t, _), n in bag.metadata_counts.items() if t in wanted and topic_key(t) == "plan"
            ):
                raise BagContentError(
                    f"bag {path} has no `plan` messages (std_msgs/msg/String); nothing to align to"
                )
            total = sum(n for (t, _), n in bag.metadata_counts.items() if t in wanted)
            conv = _BagConverter(path, writer, cfg, scene, report)
            with _progress(total, path.name, progress) as bar:
                for i, m in enumerate(bag.messages(wanted, SAMPLERS)):
                    conv.feed(m)
                    if i % 4096 == 4095:
                        bar.update(4096)
                conv.finish()
            report.messages = sum(bag.counts.values())
            bag.check_counts()
        if report.episodes == 0:
            raise BagContentError(f"bag {path}: no usable episode")
    except DataError as err:
        writer.discard_from(first)
        report.ok, report.error = False, str(err)
        report.episodes = report.transitions = 0
    return report


def _progress(total: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="msg", disable=not enabled, leave=False, mininterval=0.5)
