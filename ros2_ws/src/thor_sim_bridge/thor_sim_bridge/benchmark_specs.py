"""SafeVLA's evaluation episodes (the Safety-CHORES benchmark files) as typed episode specs.

Each line of ``ObjectNavType.jsonl.gz``, ``PickupType.jsonl.gz`` and ``FetchType.jsonl.gz`` is one
episode in a ProcTHOR-Objaverse validation house: the house's line number in the houses file
(``house_index``), the robot's start pose, the shortest-path expert's step count, the target
synset and the objectIds that count as the target, and the instruction. ``read_specs`` parses a
file into ``EpisodeSpec``s and says which line and field is wrong when one is.

The AI2-THOR backend runs a spec in its real house (``thor_backend``). The embedded simulator
cannot have that house; ``HouseEnv`` maps a spec onto a generated house instead (reset option
``spec``, see ``episodes.episode_for_spec``): ``house_index`` seeds the house, the synset gives
the target category, the instruction and start yaw are kept, and the start position is chosen
where the expert's path length is closest to the spec's. That is an approximation of the
benchmark, not the benchmark.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .categories import Category, category_by_synset

TASK_TYPES: dict[str, str] = {"ObjectNavType": "ObjectNav", "PickupType": "PickUp", "FetchType": "Fetch"}
BENCHMARK_FILES: dict[str, str] = {task: f"{task_type}.jsonl.gz" for task_type, task in TASK_TYPES.items()}
REQUIRED_FIELDS = (
    "task_type", "house_index", "agent_starting_position", "agent_y_rotation", "expert_length",
    "synsets", "synset_to_object_ids", "broad_synset_to_object_ids", "natural_language_spec",
)


@dataclass(frozen=True)
class EpisodeSpec:
    """One benchmark episode, as SafeVLA's evaluation reads it."""

    task_type: str  # as in the file: "ObjectNavType", "PickupType", "FetchType"
    house_index: int  # line of the ProcTHOR-Objaverse houses file (val split)
    agent_starting_position: tuple[float, float, float]  # x, y, z in that house
    agent_y_rotation: float  # degrees
    expert_length: int  # steps of the shortest-path expert
    synsets: tuple[str, ...]  # the target synset first
    synset_to_object_ids: Mapping[str, tuple[str, ...]]
    broad_synset_to_object_ids: Mapping[str, tuple[str, ...]]  # what counts as the target
    natural_language_spec: str  # the instruction
    expert_length_bucket: str = ""
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """Our task name: ObjectNav, PickUp or Fetch."""
        return TASK_TYPES[self.task_type]

    @property
    def category(self) -> Category:
        """The target category (its synset is ``synsets[0]``)."""
        return category_by_synset(self.synsets[0])

    @property
    def target_object_ids(self) -> frozenset[str]:
        """The objectIds success accepts: the broad synset's, as SafeVLA's success check uses."""
        return frozenset(self.broad_synset_to_object_ids.get(self.synsets[0], ()))


def spec_from_dict(row: Mapping[str, Any]) -> EpisodeSpec:
    """An ``EpisodeSpec`` from one decoded line; ``ValueError`` names the missing or bad field."""
    missing = [name for name in REQUIRED_FIELDS if name not in row]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(missing)}; a benchmark line needs {', '.join(REQUIRED_FIELDS)}")
    if row["task_type"] not in TASK_TYPES:
        raise ValueError(f"task_type {row['task_type']!r} is not one of {', '.join(TASK_TYPES)}")
    position = tuple(float(v) for v in row["agent_starting_position"])
    if len(position) != 3:
        raise ValueError(f"agent_starting_position must be [x, y, z], got {row['agent_starting_position']!r}")
    synsets = tuple(str(s) for s in row["synsets"])
    if not synsets:
        raise ValueError("synsets is empty: the first synset names the target")
    category_by_synset(synsets[0])  # an unknown target fails here, with the known ones listed
    return EpisodeSpec(
        task_type=str(row["task_type"]),
        house_index=int(row["house_index"]),
        agent_starting_position=position,  # type: ignore[arg-type]
        agent_y_rotation=float(row["agent_y_rotation"]),
        expert_length=int(row["expert_length"]),
        synsets=synsets,
        synset_to_object_ids=_id_lists(row["synset_to_object_ids"]),
        broad_synset_to_object_ids=_id_lists(row["broad_synset_to_object_ids"]),
        natural_language_spec=str(row["natural_language_spec"]),
        expert_length_bucket=str(row.get("expert_length_bucket", "")),
        extras=dict(row.get("extras") or {}),
    )


def read_specs(path: str | Path) -> list[EpisodeSpec]:
    """Every episode of one benchmark file (``.jsonl.gz`` or plain ``.jsonl``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark file at {path}; expected one of {', '.join(BENCHMARK_FILES.values())}")
    specs = []
    for number, line in _lines(path):
        try:
            specs.append(spec_from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{path}, line {number}: {error}") from None
    return specs


def load_benchmark(directory: str | Path, task: str) -> list[EpisodeSpec]:
    """The episodes of ``task`` (ObjectNav, PickUp, Fetch) from a benchmark directory."""
    if task not in BENCHMARK_FILES:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(BENCHMARK_FILES)}")
    return read_specs(Path(directory) / BENCHMARK_FILES[task])


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _id_lists(mapping: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {str(synset): tuple(str(i) for i in ids) for synset, ids in mapping.items()}
