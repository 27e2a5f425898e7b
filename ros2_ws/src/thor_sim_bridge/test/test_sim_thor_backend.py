"""The AI2-THOR backend without AI2-THOR: fail-fast checks, action -> controller call translation,
and recorded Stretch metadata -> StepEvent -> costs and success through ThorEnv with a stand-in
controller that replays a fixture."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from safevla_common.actions import ACTION_INDEX, ACTION_NAMES
from thor_sim_bridge.benchmark_specs import spec_from_dict
from thor_sim_bridge.costs import CostBreakdown
from thor_sim_bridge.thor_backend import ThorEnv, ThorSettings, ThorSetupError, controller_kwargs, require_setup
from thor_sim_bridge.thor_backend.actions import controller_calls
from thor_sim_bridge.thor_backend.houses import HouseFile
from thor_sim_bridge.thor_backend.preflight import setup_problems
from thor_sim_bridge.thor_metadata import arm_state, event_from_thor_metadata, wrist_yaw

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "thor_stretch_pickup.json").read_text())
STEPS = FIXTURE["steps"]
SPEC = spec_from_dict(FIXTURE["spec"])


@pytest.fixture
def machine(tmp_path: Path) -> dict:
    """A machine with every piece in place: a build, an ICD, a houses file and an assets folder."""
    build = tmp_path / "thor-CloudRendering"
    build.write_text("#!/bin/sh\n")
    build.chmod(0o755)
    icd = tmp_path / "icd.d"
    icd.mkdir()
    (icd / "nvidia_icd.json").write_text("{}")
    houses = tmp_path / "val.jsonl.gz"
    with gzip.open(houses, "wt") as handle:
        handle.write(json.dumps({"id": "house-0", "rooms": []}) + "\n" + json.dumps({"id": "house-1"}) + "\n")
    (tmp_path / "assets").mkdir()
    settings = ThorSettings(houses, tmp_path / "assets", build)
    return {"settings": settings, "find_spec": lambda name: object(), "environ": {}, "icd_dirs": [icd]}


# -- fail fast ---------------------------------------------------------------------------------------


def test_a_complete_machine_has_no_problems(machine):
    assert setup_problems(**machine) == []


@pytest.mark.parametrize("missing, says", [
    ("package", "ai2thor package is not installed"),
    ("build", "Unity build"),
    ("vulkan", "no Vulkan ICD"),
    ("houses", "houses file"),
    ("assets", "assets folder"),
])
def test_each_missing_piece_is_named_with_what_to_do(machine, missing, says):
    settings = machine["settings"]
    if missing == "package":
        machine["find_spec"] = lambda name: None
    elif missing == "build":
        settings.local_executable_path.unlink()
    elif missing == "vulkan":
        machine["icd_dirs"] = []
    elif missing == "houses":
        settings.houses_path.unlink()
    else:
        settings.assets_dir.rmdir()
    (problem,) = setup_problems(**machine)
    assert says in problem and ":" in problem.split(says, 1)[1], "what is missing, then what to do"


def test_a_build_that_is_not_executable_is_a_problem(machine):
    machine["settings"].local_executable_path.chmod(0o644)
    (problem,) = setup_problems(**machine)
    assert "not an executable file" in problem


def test_vk_icd_filenames_overrides_the_search(machine):
    machine["environ"] = {"VK_ICD_FILENAMES": "/nowhere/icd.json"}
    (problem,) = setup_problems(**machine)
    assert "/nowhere/icd.json" in problem


def test_thor_env_fails_before_starting_anything_on_this_machine(tmp_path):
    settings = ThorSettings(tmp_path / "val.jsonl.gz", tmp_path / "assets", tmp_path / "thor-build")
    with pytest.raises(ThorSetupError) as error:
        ThorEnv(settings, "PickUp", [SPEC])
    message = str(error.value)
    for piece in ("ai2thor package", "Unity build", "houses file", "assets folder", "docs/simulator.md"):
        assert piece in message
    with pytest.raises(ThorSetupError):
        require_setup(settings)


def test_controller_arguments_are_safevla_s(machine):
    kwargs = controller_kwargs(machine["settings"])
    assert kwargs["agentMode"] == "stretch" and (kwargs["width"], kwargs["height"]) == (396, 224)
    assert kwargs["fieldOfView"] == 59 and kwargs["gridSize"] == 0.15
    assert kwargs["visibilityDistance"] == pytest.approx(0.867, abs=1e-3) and kwargs["renderInstanceSegmentation"]
    assert kwargs["local_executable_path"] == str(machine["settings"].local_executable_path)


# -- actions -> controller calls -------------------------------------------------------------------


def test_every_action_maps_to_stretch_calls_with_safevla_magnitudes():
    metadata = STEPS[3]["metadata"]  # lift 0.9, extension 0, wrist 90
    calls = {name: controller_calls(name, metadata) for name in ACTION_NAMES}
    assert calls["move_ahead"] == [{"action": "MoveAheadQuick", "moveMagnitude": 0.2}]
    assert calls["move_back"] == [{"action": "MoveBackQuick", "moveMagnitude": 0.2}]
    turns = {name: calls[name][0]["degrees"] for name in
             ("rotate_right", "rotate_left", "rotate_right_small", "rotate_left_small")}
    assert turns == {"rotate_right": 30, "rotate_left": -30, "rotate_right_small": 6, "rotate_left_small": -6}
    assert all(calls[n][0]["action"] == "RotateRightQuick" for n in turns)
    arm = arm_state(metadata)
    for name, axis, delta in (("move_arm_up", "y", 0.1), ("move_arm_down_small", "y", -0.02),
                              ("move_arm_out", "z", 0.1), ("move_arm_in_small", "z", -0.02)):
        (call,) = calls[name]
        assert call["action"] == "MoveArm" and call["returnToStart"] and call["speed"] == 1
        assert call["position"][axis] == pytest.approx(arm[axis] + delta)
    assert calls["wrist_open"] == [{"action": "RotateWristRelative", "yaw": -10.0, "returnToStart": True, "speed": 1}]
    assert calls["wrist_close"][0]["yaw"] == pytest.approx(10.0)
    assert calls["pickup"] == [{"action": "PickupObject"}]
    assert [c["action"] for c in calls["dropoff"]] == ["ReleaseObject", "AdvancePhysicsStep"]
    assert calls["done"] == calls["sub_done"] == [{"action": "Pass"}]


def test_the_wrist_never_turns_past_its_bounds():
    metadata = json.loads(json.dumps(STEPS[0]["metadata"]))
    metadata["arm"]["joints"][-1]["rootRelativeRotation"]["w"] = 103.0  # 3 degrees from open's bound (100)
    assert controller_calls("wrist_open", metadata)[0]["yaw"] == pytest.approx(-3.0)
    metadata["arm"]["joints"][-1]["rootRelativeRotation"]["w"] = 71.0  # 4 degrees from close's bound (75)
    assert controller_calls("wrist_close", metadata)[0]["yaw"] == pytest.approx(4.0)


def test_unknown_actions_and_armless_metadata_are_refused():
    with pytest.raises(ValueError, match="unknown action"):
        controller_calls("jump", STEPS[0]["metadata"])
    armless = {**STEPS[0]["metadata"], "arm": None}
    with pytest.raises(ValueError, match="stretch"):
        controller_calls("move_arm_up", armless)


# -- metadata -> StepEvent ---------------------------------------------------------------------------


def test_stretch_metadata_gives_arm_joints_and_the_held_object():
    picked = event_from_thor_metadata(STEPS[8]["metadata"])
    assert picked["arm"]["lift"] == pytest.approx(0.92, abs=1e-3)
    assert picked["arm"]["extension"] == pytest.approx(0.1, abs=1e-3)
    assert picked["arm"]["wrist"] == pytest.approx(80.0) == wrist_yaw(STEPS[8]["metadata"])
    assert picked["arm"]["heldObjectId"] == "Mug|1|3"
    assert event_from_thor_metadata(STEPS[0]["metadata"])["arm"]["heldObjectId"] is None


# -- ThorEnv over a replaying controller ---------------------------------------------------------------


class ReplayController:
    """Stands in for ai2thor's Controller: answers each agent action with the fixture's next event."""

    AGENT_ACTIONS = {"MoveAheadQuick", "MoveBackQuick", "RotateRightQuick", "MoveArm", "RotateWristRelative",
                     "PickupObject", "ReleaseObject", "Pass"}

    def __init__(self, visible: list[str]) -> None:
        self.calls: list[dict] = []
        self.scenes: list[dict] = []
        self.visible = visible
        self._next = 1
        self._current = STEPS[0]["metadata"]

    def reset(self, scene: dict) -> SimpleNamespace:
        self.scenes.append(scene)
        return self._event(self._current)

    def step(self, **call) -> SimpleNamespace:
        self.calls.append(call)
        action = call["action"]
        if action in self.AGENT_ACTIONS:
            self._current = STEPS[self._next]["metadata"]
            self._next += 1
        if action == "GetReachablePositions":
            return self._event(self._current, FIXTURE["reachablePositions"])
        if action == "GetVisibleObjects":
            return self._event(self._current, self.visible)
        return self._event(self._current)

    def stop(self) -> None:
        self.calls.append({"action": "<stop>"})

    @staticmethod
    def _event(metadata: dict, answer=None) -> SimpleNamespace:
        return SimpleNamespace(metadata={**metadata, "actionReturn": answer},
                               frame=np.zeros((224, 396, 3), np.uint8),
                               third_party_camera_frames=[np.zeros((224, 396, 4), np.uint8)])


def replay(machine, task: str, visible: list[str]) -> tuple[ThorEnv, ReplayController, list[dict]]:
    controller = ReplayController(visible)
    spec = spec_from_dict({**FIXTURE["spec"], "task_type": {"PickUp": "PickupType", "ObjectNav": "ObjectNavType"}[task]})
    env = ThorEnv(machine["settings"], task, [spec], controller_factory=lambda settings: controller)
    obs, info = env.reset(seed=0)
    infos = [info]
    for step in STEPS[1:]:
        obs, reward, terminated, truncated, info = env.step(ACTION_INDEX[step["action"]])
        infos.append(info)
    assert terminated and not truncated
    return env, controller, infos


def test_reset_runs_safevla_s_preparation_then_teleports(machine):
    _, controller, infos = replay(machine, "PickUp", [])
    assert controller.scenes == [{"id": "house-0", "rooms": []}], "the spec's house_index picks the house"
    names = [c["action"] for c in controller.calls]
    prepare = names[: names.index("Teleport")]
    assert prepare.count("RotateCameraMount") == 2 and prepare.count("ChangeFOV") == 2
    assert {"SetGripperOpenness", "ResetObjectFilter", "AdvancePhysicsStep"} <= set(prepare)
    mounts = [c["degrees"] for c in controller.calls if c["action"] == "RotateCameraMount"]
    assert abs(mounts[0] - 27) <= 2 and abs(mounts[1] - 33) <= 2
    assert all(abs(c["fieldOfView"] - 59) <= 1 for c in controller.calls if c["action"] == "ChangeFOV")
    teleport = controller.calls[names.index("Teleport")]
    assert teleport["position"] == {"x": 1.0, "y": 0.9009921550750732, "z": 1.0} and teleport["rotation"]["y"] == 0.0
    assert infos[0]["instruction"] == "grab a mug" and infos[0]["expert_length"] == 9


def test_recorded_episode_gives_costs_success_and_observations(machine):
    env, controller, infos = replay(machine, "PickUp", [])
    costs = [CostBreakdown(**info["costs"]) for info in infos[1:]]
    assert costs == [CostBreakdown()] * 5 + [
        CostBreakdown(blind_spot=1, critical_point=1),  # the garbage can seen at reset, pushed 0.15 m
        CostBreakdown(fragile_collection=1),  # the bowl nudged in its cluster
        CostBreakdown(),  # picking the mug up is no disturbance
        CostBreakdown(),  # done
    ]
    assert infos[-1]["success"] and infos[-1]["event"]["lastAction"] == "done"
    assert not infos[6]["event"]["lastActionSuccess"], "the collided move failed"
    assert infos[3]["event"]["lastActionSuccess"], "the arm moved"
    assert env.observation_space["nav_rgb"].shape == (224, 384, 3)
    assert env.episode_map().ndim == 3


def test_objectnav_success_is_a_target_visible_within_2_m(machine):
    *_, infos = replay(machine, "ObjectNav", FIXTURE["visibleWithin2m"])
    assert infos[-1]["success"]
    *_, infos = replay(machine, "ObjectNav", ["Bowl|1|5"])
    assert not infos[-1]["success"]


def test_observations_are_cropped_to_224_by_384(machine):
    controller = ReplayController([])
    env = ThorEnv(machine["settings"], "PickUp", [SPEC], controller_factory=lambda settings: controller)
    obs, _ = env.reset(seed=0)
    assert obs["nav_rgb"].shape == obs["manip_rgb"].shape == (224, 384, 3)
    assert obs["object_in_hand"] == 0 and obs["last_action"] == 20
    env.close()
    assert controller.calls[-1] == {"action": "<stop>"}


def test_specs_must_be_of_the_env_s_task(machine):
    with pytest.raises(ValueError, match="ObjectNav episode specs"):
        ThorEnv(machine["settings"], "ObjectNav", [SPEC], controller_factory=lambda settings: None)


def test_house_file_gives_houses_by_index(machine):
    houses = HouseFile(machine["settings"].houses_path)
    assert len(houses) == 2 and houses[1] == {"id": "house-1"} and houses[0]["id"] == "house-0"
    with pytest.raises(IndexError, match="holds 2 houses"):
        houses[2]
