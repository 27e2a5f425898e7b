"""``HouseEnv``: the embedded household simulator as a gymnasium environment.

One step = one of SafeVLA's 20 actions. Observations are what the policy sees (two camera frames,
the previous action, the object-in-hand flag); ``info`` carries the AI2-THOR-shaped event (for
Safety-CHORES costs), the step's costs (``costs`` per component, ``cost`` their sum: the signal
PPO-Lagrangian constrains), the instruction and the expert's next action (for imitation): the
shortest-path expert's, or the cost-aware one's (``SimConfig.expert_planner``, reset option
``expert``). The env keeps the episode's events and costs so far; ``episode_map`` draws them.
The same seed gives the same houses, episodes, frames and events.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from safevla_common.actions import ACTION_NAMES, NO_PREVIOUS_ACTION, NUM_ACTIONS

from .agent import BASE_HEIGHT
from .benchmark_specs import EpisodeSpec
from .config import SimConfig
from .costs import COST_COMPONENTS, SafetyCostTracker
from .episode_map import draw_episode_map
from .episodes import Episode, episode_for_spec, sample_episode
from .events import StepEvent
from .expert import EXPERT_KINDS, Expert
from .house import MAX_ROOMS, generate_house
from .render import Renderer
from .tasks import SUCCESS_REWARD, task_by_name
from .topdown import draw_top_down
from .world import World

RESET_OPTIONS = frozenset({"house_seed", "num_rooms", "target_type", "expert", "spec"})
MAX_HOUSE_TRIES = 20
SPEC_STEPS_PER_ROOM = 75  # a benchmark episode of n expert steps gets a house of 1 + n / 75 rooms
SPEC_SEED_STRIDE = 100_003  # next seed tried when a spec's house lacks its target


class HouseEnv(gym.Env):
    """SafeVLA's household tasks in generated multi-room houses (see ``SimConfig`` for settings).

    ``reset`` options: ``house_seed`` (int), ``num_rooms`` (int), ``target_type`` (e.g. "Mug"),
    ``expert`` ("shortest" or "cost_aware", for this episode), ``spec`` (a
    ``benchmark_specs.EpisodeSpec`` of this env's task: the benchmark episode mapped onto a
    generated house, see ``episodes.episode_for_spec``).
    Camera frames are strided views (see ``Renderer.render``); with rendering off they are one
    shared read-only array of zeros.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, config: SimConfig | None = None, render_mode: str | None = None, **overrides: Any) -> None:
        self.config = replace(config or SimConfig(), **overrides)
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self.task = task_by_name(self.config.task)
        shape = (self.config.image_height, self.config.image_width, 3)
        frame = spaces.Box(0, 255, shape, np.uint8)
        self.observation_space = spaces.Dict(
            {
                "nav_rgb": frame,
                "manip_rgb": frame,
                "last_action": spaces.Discrete(NUM_ACTIONS + 1),  # NO_PREVIOUS_ACTION at step 0
                "object_in_hand": spaces.Discrete(2),
            }
        )
        self.action_space = spaces.Discrete(NUM_ACTIONS)
        self._blank = np.zeros(shape, np.uint8)
        self._blank.flags.writeable = False
        self._house_key: tuple[int, int] | None = None
        self._seeded = False
        self.world: World | None = None
        self.renderer: Renderer | None = None
        self.episode: Episode | None = None
        self.cost_tracker = SafetyCostTracker()
        self.expert: Expert | None = None
        self.expert_planner = self.config.expert_planner
        self._events: list[StepEvent] = []
        self._costs: list[dict[str, int]] = []

    @property
    def instruction(self) -> str:
        return self.episode.instruction if self.episode else ""

    # ------------------------------------------------------------------------------ gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        if seed is None and not self._seeded:
            seed = self.config.seed
        super().reset(seed=seed)
        self._seeded = True
        options = dict(options or {})
        unknown = set(options) - RESET_OPTIONS
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; expected some of {sorted(RESET_OPTIONS)}")
        kind = options.get("expert", self.config.expert_planner)
        if kind not in EXPERT_KINDS:
            raise ValueError(f"reset option expert must be one of {', '.join(EXPERT_KINDS)}, got {kind!r}")
        if "spec" in options:
            sampled = self._spec_episode(options["spec"])
        else:
            sampled = self._random_episode(options)
        self.episode, shortest = sampled
        self.expert_planner = kind
        if kind == "shortest":
            self.expert = shortest
        else:
            self.expert = self.task.expert(self.world, self.episode.target_type, self.config.success_distance, kind)
        self.expert.reset()
        self.world.reset(self.episode.start)
        self._steps = 0
        self._last_action = NO_PREVIOUS_ACTION
        event = self.world.event("reset", True, "")
        self.cost_tracker.reset(event, self.world.navgrid.positions())
        self._events, self._costs = [event], []
        return self._observation(), self._info(event, success=False, costs=dict.fromkeys(COST_COMPONENTS, 0))

    def step(self, action: int) -> tuple[dict, float, bool, bool, dict]:
        is_index = isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))
        if not is_index or not 0 <= action < NUM_ACTIONS:
            raise ValueError(
                f"action must be an integer in [0, {NUM_ACTIONS}) (see safevla_common.actions.ACTION_NAMES), "
                f"got {action!r}"
            )
        if self.episode is None:
            raise RuntimeError("call reset() before step()")
        name = ACTION_NAMES[int(action)]
        success, error = self.world.apply(name)
        event = self.world.event(name, success, error)
        self._steps += 1
        self._last_action = int(action)
        solved = name == "done" and self.task.is_success(event, self.episode.target_type, self.config.success_distance)
        terminated = name == "done"
        truncated = not terminated and self._steps >= self.config.max_steps
        reward = SUCCESS_REWARD if solved else 0.0
        costs = self.cost_tracker.step(name, event).as_dict()
        self._events.append(event)
        self._costs.append(costs)
        return self._observation(), reward, terminated, truncated, self._info(event, success=solved, costs=costs)

    def render(self) -> np.ndarray | None:
        """The navigation camera frame (render_mode "rgb_array")."""
        if self.render_mode != "rgb_array" or self.world is None:
            return None
        return self.renderer.render_views(self.world)[0]

    # ---------------------------------------------------------------------------------- extras

    def reachable_positions(self) -> list[dict[str, float]]:
        """Free 0.15 m grid points the robot can reach, like AI2-THOR's GetReachablePositions."""
        self._require_reset()
        return [{"x": float(x), "y": BASE_HEIGHT, "z": float(z)} for x, z in self.world.navgrid.positions()]

    def top_down_map(self, pixels_per_metre: int = 40) -> np.ndarray:
        """An RGB plan of the house: rooms, walls, objects (targets outlined) and the robot."""
        self._require_reset()
        return draw_top_down(self.world, pixels_per_metre, highlight=self.episode.target_type)

    def episode_record(self) -> tuple[list[StepEvent], list[dict[str, int]]]:
        """The episode so far: its events (the reset's first) and each step's costs. The lists are
        the env's own until the next reset replaces them; they are never changed after a step."""
        return list(self._events), list(self._costs)

    def episode_map(self, pixels_per_metre: int = 40) -> np.ndarray:
        """An RGB top-down map of the episode so far: rooms, objects, the robot's path and where each
        Safety-CHORES cost fired, coloured by type, with a legend (see ``episode_map``)."""
        self._require_reset()
        title = f"{self.task.name}: {self.episode.instruction} ({len(self._costs)} steps)"
        return draw_episode_map(self._events, self._costs, self.world.house, target_type=self.episode.target_type,
                                title=title, pixels_per_metre=pixels_per_metre)

    # ------------------------------------------------------------------------------- internals

    def _random_episode(self, options: dict[str, Any]) -> tuple[Episode, Expert]:
        house_seed = options.get("house_seed", self.config.house_seed)
        for _ in range(MAX_HOUSE_TRIES if house_seed is None else 1):
            seed_now = int(self.np_random.integers(2**31)) if house_seed is None else int(house_seed)
            self._load_house(seed_now, options.get("num_rooms"))
            sampled = sample_episode(
                self.world,
                self.task,
                self.np_random,
                max_steps=self.config.max_steps,
                success_distance=self.config.success_distance,
                target_type=options.get("target_type"),
                validate=self.config.validate_episodes,
            )
            if sampled is not None:
                return sampled
        raise RuntimeError(
            f"no solvable {self.task.name} episode found (house_seed={house_seed}, options={options}); "
            "try another house_seed or target_type"
        )

    def _spec_episode(self, spec: EpisodeSpec) -> tuple[Episode, Expert]:
        """A benchmark episode on a generated house: seeded by its house_index, sized by its expert length."""
        if not isinstance(spec, EpisodeSpec) or spec.task != self.task.name:
            raise ValueError(f"reset option spec must be a {self.task.name} benchmark_specs.EpisodeSpec, got {spec!r}")
        rooms = min(1 + round(spec.expert_length / SPEC_STEPS_PER_ROOM), MAX_ROOMS)
        for attempt in range(MAX_HOUSE_TRIES):
            self._load_house(spec.house_index + attempt * SPEC_SEED_STRIDE, min(rooms + attempt, MAX_ROOMS))
            sampled = episode_for_spec(
                self.world, self.task, spec, max_steps=self.config.max_steps, success_distance=self.config.success_distance
            )
            if sampled is not None:
                return sampled
        raise RuntimeError(f"no generated house solves benchmark episode {spec.task_type} house {spec.house_index}")

    def _require_reset(self) -> None:
        if self.world is None:
            raise RuntimeError("call reset() first")

    def _load_house(self, house_seed: int, num_rooms: int | None) -> None:
        low, high = self.config.min_rooms, self.config.max_rooms
        rooms = int(num_rooms) if num_rooms is not None else low + house_seed % (high - low + 1)
        if (house_seed, rooms) != self._house_key:
            house = generate_house(house_seed, rooms)
            self.world = World(house, self.config.visibility_distance)
            self.renderer = Renderer(house, self.config.image_height, self.config.image_width)
            self._house_key = (house_seed, rooms)

    def _observation(self) -> dict[str, Any]:
        if self.config.render:
            nav, manip = self.renderer.render_views(self.world)
        else:
            nav = manip = self._blank
        return {
            "nav_rgb": nav,
            "manip_rgb": manip,
            "last_action": self._last_action,
            "object_in_hand": int(self.world.held is not None),
        }

    def _info(self, event: StepEvent, success: bool, costs: dict[str, int]) -> dict[str, Any]:
        return {
            "event": event,
            "costs": costs,
            "cost": float(sum(costs.values())),
            "instruction": self.episode.instruction,
            "task": self.task.name,
            "target_type": self.episode.target_type,
            "success": success,
            "step": self._steps,
            "expert_action": self.expert.next_action(self.world) if self.config.expert else "",
            "expert_length": self.episode.expert_length,
            "expert_planner": self.expert_planner,
            "house_seed": self._house_key[0],
        }
