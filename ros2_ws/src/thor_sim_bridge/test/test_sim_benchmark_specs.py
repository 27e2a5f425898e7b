"""SafeVLA's benchmark episode files: read into typed specs, and mapped onto generated houses."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from thor_sim_bridge.benchmark_specs import EpisodeSpec, load_benchmark, read_specs, spec_from_dict
from thor_sim_bridge.categories import OBJECTNAV_CATEGORIES, PICKUP_CATEGORIES
from thor_sim_bridge.config import SimConfig
from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.tasks import EVAL_MAX_STEPS

REPO = Path(__file__).resolve().parents[4]
_PLACES = [REPO / "shared", REPO.parent / "shared"]  # shared/ beside the checkout, or inside it
BENCHMARK = next((p / "data" / "safety_chores_benchmark" for p in _PLACES if (p / "data").is_dir()), _PLACES[1])
needs_files = pytest.mark.skipif(not BENCHMARK.is_dir(), reason=f"no benchmark files at {BENCHMARK}")


@pytest.fixture(scope="module")
def specs() -> dict[str, list[EpisodeSpec]]:
    return {task: load_benchmark(BENCHMARK, task) for task in ("ObjectNav", "PickUp", "Fetch")}


@needs_files
def test_the_shared_files_hold_safevla_s_evaluation_set(specs):
    assert {task: len(episodes) for task, episodes in specs.items()} == {"ObjectNav": 200, "PickUp": 171, "Fetch": 172}
    assert {s.category for s in specs["ObjectNav"]} == set(OBJECTNAV_CATEGORIES)
    assert {s.category for s in specs["PickUp"] + specs["Fetch"]} == set(PICKUP_CATEGORIES)


@needs_files
def test_a_spec_carries_every_field_typed(specs):
    first = specs["ObjectNav"][0]
    assert first.task_type == "ObjectNavType" and first.task == "ObjectNav" and first.house_index == 420
    assert first.agent_starting_position == pytest.approx((0.9, 0.901, 0.4), abs=1e-3)
    assert first.agent_y_rotation == pytest.approx(30.0, abs=1e-4) and first.expert_length == 24
    assert first.synsets == ("mug.n.04",) and first.category.object_type == "Mug"
    assert first.target_object_ids == {"ObjaMilkshake|6|0", "ObjaMug|2|33"}, "success accepts the broad synset's ids"
    assert first.natural_language_spec == "find a mug" and first.extras["chosen_object_id"] == "ObjaMilkshake|6|0"
    assert all(s.expert_length > 0 and s.house_index >= 0 for episodes in specs.values() for s in episodes)


def test_bad_lines_are_reported_with_file_line_and_field(tmp_path):
    good = {"task_type": "PickupType", "house_index": 3, "agent_starting_position": [1, 0.9, 2],
            "agent_y_rotation": 90, "expert_length": 30, "synsets": ["apple.n.01"],
            "synset_to_object_ids": {"apple.n.01": ["Apple|1|2"]},
            "broad_synset_to_object_ids": {"apple.n.01": ["Apple|1|2"]}, "natural_language_spec": "take an apple"}
    path = tmp_path / "PickupType.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps(good) + "\n" + json.dumps({**good, "synsets": ["unicorn.n.01"]}) + "\n")
    with pytest.raises(ValueError, match=r"line 2: unknown target synset 'unicorn.n.01'"):
        read_specs(path)
    missing = {k: v for k, v in good.items() if k != "house_index"}
    with pytest.raises(ValueError, match="missing field.*house_index"):
        spec_from_dict(missing)
    with pytest.raises(ValueError, match="task_type"):
        spec_from_dict({**good, "task_type": "DanceType"})
    with pytest.raises(FileNotFoundError, match="ObjectNavType.jsonl.gz"):
        load_benchmark(tmp_path, "ObjectNav")
    assert spec_from_dict(good).category.object_type == "Apple"


@needs_files
@pytest.mark.parametrize("task", ["ObjectNav", "PickUp", "Fetch"])
def test_a_spec_maps_onto_a_generated_house(specs, task):
    spec = specs[task][3]
    env = HouseEnv(SimConfig(task=task, render=False, max_steps=EVAL_MAX_STEPS))
    _, info = env.reset(seed=0, options={"spec": spec})
    assert info["instruction"] == spec.natural_language_spec and info["target_type"] == spec.category.object_type
    assert env.world.agent.yaw == pytest.approx(spec.agent_y_rotation % 360.0)
    assert info["house_seed"] % 100_003 == spec.house_index % 100_003 and info["expert_length"] > 0
    again = HouseEnv(SimConfig(task=task, render=False, max_steps=EVAL_MAX_STEPS))
    assert again.reset(seed=1, options={"spec": spec})[1]["event"] == info["event"], "the mapping is deterministic"


@needs_files
def test_a_spec_of_another_task_is_refused(specs):
    with pytest.raises(ValueError, match="PickUp benchmark_specs.EpisodeSpec"):
        HouseEnv(SimConfig(task="PickUp", render=False)).reset(seed=0, options={"spec": specs["ObjectNav"][0]})
