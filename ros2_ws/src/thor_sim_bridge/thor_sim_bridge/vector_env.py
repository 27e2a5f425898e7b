"""``VectorHouseEnv``: many ``HouseEnv`` simulators, each in its own process, stepped in lock-step.

Why not gymnasium's ``AsyncVectorEnv``: training needs the episode schedule to be a pure function
of (seed, worker, episode counter) so that a killed run can be resumed exactly, it needs only a few
numbers per step (not the AI2-THOR-shaped event with every object), and it may want the frozen image
features computed next to the renderer so that only small arrays cross the pipe. This pool does those
three things and nothing else.

The episode schedule. Episodes have global indices ``g``; episode ``g`` is ``reset(seed=base_seed + g)``,
the sim bridge's rule ("episode k is generated from seed + k"), so evaluation with ``base_seed=1000``
plays the same episodes as ``make sim``. Worker ``w`` plays ``g = first_episode + w + k * stride`` for its
episode counter ``k = 0, 1, ...`` (``stride`` defaults to the number of workers; several ranks of a
distributed run use ``first_episode = rank * workers`` and ``stride = ranks * workers`` so no two workers
anywhere play the same episode). A finished episode is reset at once, in the same ``step`` call: the
observation returned for that worker is the next episode's first, and ``finished`` carries the summary
of the one that ended.

``obs_fn`` (optional, picklable) runs inside each worker on every observation and returns the dict of
arrays sent back; without one the worker sends copies of the camera frames. ``replay`` rebuilds a
worker's episode mid-way (reset + the same actions: the simulator is deterministic), which is how a
resumed training run gets back the exact state its in-progress episodes were in.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from safevla_common.actions import ACTION_INDEX, NUM_ACTIONS

from .config import SimConfig
from .costs import COST_COMPONENTS

ObsFn = Callable[[dict[str, Any]], dict[str, Any]]
NO_EXPERT_ACTION = -1


@dataclass
class EpisodeSummary:
    """One finished episode, as the evaluation tables report it."""

    episode: int  # global episode index g
    seed: int  # reset seed (base_seed + g)
    task: str
    instruction: str
    success: bool
    length: int
    expert_length: int
    reward: float  # undiscounted return
    cost: float  # Safety-CHORES cost summed over the episode
    costs: dict[str, float] = field(default_factory=dict)  # the same, per component
    path_m: float = 0.0  # distance the base travelled
    collisions: int = 0  # steps whose move collided
    truncated: bool = False  # ended by max_steps rather than by ``done``

    @property
    def sel(self) -> float:
        """Success weighted by episode length: success * expert_len / max(len, expert_len)."""
        return float(self.success) * self.expert_length / max(self.length, self.expert_length, 1)

    @property
    def spl(self) -> float:
        """Success weighted by path length (metres), the expert's path taken as 0.2 m per step as the sim bridge does."""
        shortest = self.expert_length * 0.2
        return float(self.success) * shortest / max(self.path_m, shortest, 1e-9)


@dataclass
class VecStep:
    """One lock-step of all workers; per-worker arrays are indexed by worker."""

    obs: dict[str, np.ndarray]  # stacked observations (after obs_fn); a reset worker's are its new episode's first
    reward: np.ndarray  # (N,) float32
    cost: np.ndarray  # (N,) float32, the sum of ``costs``
    costs: np.ndarray  # (N, len(COST_COMPONENTS)) float32
    terminated: np.ndarray  # (N,) bool: the agent said ``done``
    truncated: np.ndarray  # (N,) bool: max_steps reached
    expert_action: np.ndarray  # (N,) int64: the expert's next action for ``obs`` (NO_EXPERT_ACTION if off)
    instruction: list[str]  # the instruction ``obs`` belongs to
    episode: np.ndarray  # (N,) int64: global index of the episode ``obs`` belongs to
    counter: np.ndarray  # (N,) int64: the worker's episode counter k for ``obs``
    step: np.ndarray  # (N,) int64: index of ``obs`` within its episode (0 right after a reset)
    finished: list[EpisodeSummary | None]  # the summary of the episode that just ended, per worker

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated


def copy_frames(obs: dict[str, Any]) -> dict[str, Any]:
    """The default ``obs_fn``: the env's strided frame views copied into arrays that can be pickled."""
    return {key: np.array(value) if isinstance(value, np.ndarray) else value for key, value in obs.items()}


class _EpisodeTally:
    """Running sums of the episode a worker is playing."""

    def __init__(self, info: dict[str, Any], seed: int, episode: int) -> None:
        self.info, self.seed, self.episode = info, seed, episode
        self.length = self.collisions = 0
        self.reward = self.path_m = 0.0
        self.costs = dict.fromkeys(COST_COMPONENTS, 0.0)

    def add(self, reward: float, info: dict[str, Any]) -> None:
        before, after = self.info["event"]["agent"]["position"], info["event"]["agent"]["position"]
        self.path_m += math.hypot(after["x"] - before["x"], after["z"] - before["z"])
        self.length += 1
        self.reward += float(reward)
        self.collisions += "collided" in info["event"]["errorMessage"]
        for name, value in info["costs"].items():
            self.costs[name] += float(value)
        self.info = info

    def summary(self, truncated: bool) -> EpisodeSummary:
        info = self.info
        return EpisodeSummary(
            episode=self.episode, seed=self.seed, task=info["task"], instruction=info["instruction"],
            success=bool(info["success"]), length=self.length, expert_length=int(info["expert_length"]),
            reward=self.reward, cost=float(sum(self.costs.values())), costs=dict(self.costs),
            path_m=self.path_m, collisions=self.collisions, truncated=truncated)


class _Worker:
    """What runs in a worker process: one HouseEnv and its place in the episode schedule."""

    def __init__(self, config: SimConfig, base_seed: int, first: int, stride: int, obs_fn: ObsFn | None) -> None:
        from .env import HouseEnv

        self.env = HouseEnv(config)
        self.base_seed, self.first, self.stride = base_seed, first, stride
        self.obs_fn = obs_fn or copy_frames
        self.counter = 0
        self.tally: _EpisodeTally | None = None

    def _start(self, counter: int) -> tuple[dict[str, Any], dict[str, Any]]:
        self.counter = counter
        episode = self.first + counter * self.stride
        seed = self.base_seed + episode
        obs, info = self.env.reset(seed=seed)
        self.tally = _EpisodeTally(info, seed, episode)
        return obs, info

    def _out(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        expert = info["expert_action"]
        return {"obs": self.obs_fn(obs), "instruction": info["instruction"], "episode": self.tally.episode,
                "counter": self.counter, "step": int(info["step"]),
                "expert_action": ACTION_INDEX[expert] if expert else NO_EXPERT_ACTION}

    def reset(self, counter: int) -> dict[str, Any]:
        return self._out(*self._start(counter))

    def step(self, action: int) -> dict[str, Any]:
        obs, reward, terminated, truncated, info = self.env.step(int(action))
        self.tally.add(reward, info)
        result = {"reward": float(reward), "costs": [float(info["costs"][c]) for c in COST_COMPONENTS],
                  "terminated": bool(terminated), "truncated": bool(truncated), "finished": None}
        if terminated or truncated:
            result["finished"] = self.tally.summary(bool(truncated and not terminated))
            obs, info = self._start(self.counter + 1)
        return {**result, **self._out(obs, info)}

    def replay(self, counter: int, actions: Sequence[int]) -> dict[str, Any]:
        obs, info = self._start(counter)
        for i, action in enumerate(actions):
            obs, reward, terminated, truncated, info = self.env.step(int(action))
            self.tally.add(reward, info)
            if terminated or truncated:
                raise ValueError(f"replay of episode counter {counter}: action {i} of {len(actions)} ended the "
                                 "episode; replay rebuilds an episode that was still running")
        return self._out(obs, info)


def _worker_main(conn: Any, config: SimConfig, base_seed: int, first: int, stride: int, obs_fn: ObsFn | None) -> None:
    try:
        worker = _Worker(config, base_seed, first, stride, obs_fn)
        conn.send(("ok", None))
    except Exception:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(("error", traceback.format_exc()))
        return
    while True:
        try:
            command, arg = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if command == "close":
            conn.close()
            return
        try:
            conn.send(("ok", getattr(worker, command)(*arg)))
        except Exception:  # noqa: BLE001 - reported to the parent, which raises
            conn.send(("error", traceback.format_exc()))


class VectorHouseEnv:
    """``num_envs`` HouseEnvs in worker processes (see the module docstring for the episode schedule)."""

    def __init__(self, config: SimConfig, num_envs: int, *, base_seed: int = 0, first_episode: int = 0,
                 stride: int | None = None, obs_fn: ObsFn | None = None, start_method: str = "spawn") -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        stride = num_envs if stride is None else stride
        if stride < num_envs:
            raise ValueError(f"stride ({stride}) must be >= num_envs ({num_envs}) or workers would repeat episodes")
        self.config, self.num_envs, self.base_seed = config, num_envs, base_seed
        ctx = mp.get_context(start_method)
        self._conns, self._procs = [], []
        for w in range(num_envs):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, name=f"house-env-{w}", daemon=True,
                               args=(child, config, base_seed, first_episode + w, stride, obs_fn))
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self._closed = False
        self._gather(range(num_envs))  # raises if a worker failed to build its env

    # ------------------------------------------------------------------------------ plumbing

    def _gather(self, workers: Sequence[int]) -> list[Any]:
        results = []
        for w in workers:
            try:
                status, payload = self._conns[w].recv()
            except (EOFError, ConnectionResetError):
                code = self._procs[w].exitcode
                raise RuntimeError(f"simulator worker {w} died (exit code {code}); see its output above") from None
            if status != "ok":
                raise RuntimeError(f"simulator worker {w} failed:\n{payload}")
            results.append(payload)
        return results

    def _call(self, command: str, args: Sequence[tuple]) -> list[Any]:
        if self._closed:
            raise RuntimeError("VectorHouseEnv is closed")
        for conn, arg in zip(self._conns, args):
            conn.send((command, arg))
        return self._gather(range(self.num_envs))

    def _batch(self, outs: list[dict[str, Any]], steps: list[dict[str, Any]] | None = None) -> VecStep:
        n = self.num_envs
        obs = {key: np.stack([np.asarray(o["obs"][key]) for o in outs]) for key in outs[0]["obs"]}
        steps = steps or [{"reward": 0.0, "costs": [0.0] * len(COST_COMPONENTS), "terminated": False,
                           "truncated": False, "finished": None}] * n
        costs = np.array([s["costs"] for s in steps], dtype=np.float32)
        return VecStep(
            obs=obs, reward=np.array([s["reward"] for s in steps], dtype=np.float32), cost=costs.sum(1),
            costs=costs, terminated=np.array([s["terminated"] for s in steps]),
            truncated=np.array([s["truncated"] for s in steps]),
            expert_action=np.array([o["expert_action"] for o in outs], dtype=np.int64),
            instruction=[o["instruction"] for o in outs],
            episode=np.array([o["episode"] for o in outs], dtype=np.int64),
            counter=np.array([o["counter"] for o in outs], dtype=np.int64),
            step=np.array([o["step"] for o in outs], dtype=np.int64),
            finished=[s["finished"] for s in steps])

    # ------------------------------------------------------------------------------ API

    def reset(self, counters: Sequence[int] | None = None) -> VecStep:
        """Start each worker's episode ``counters[w]`` (default 0): rewards are zero, nothing finished."""
        counters = [0] * self.num_envs if counters is None else [int(c) for c in counters]
        if len(counters) != self.num_envs:
            raise ValueError(f"need one episode counter per worker ({self.num_envs}), got {len(counters)}")
        return self._batch(self._call("reset", [(c,) for c in counters]))

    def step(self, actions: Sequence[int] | np.ndarray) -> VecStep:
        """One action per worker; finished episodes are reset in the same call (see ``VecStep``)."""
        actions = np.asarray(actions).reshape(-1)
        if actions.shape != (self.num_envs,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"need {self.num_envs} integer actions, got {actions.dtype} {actions.shape}")
        if ((actions < 0) | (actions >= NUM_ACTIONS)).any():
            raise ValueError(f"actions must be in [0, {NUM_ACTIONS}), got {actions.tolist()}")
        outs = self._call("step", [(int(a),) for a in actions])
        return self._batch(outs, outs)

    def replay(self, counters: Sequence[int], actions: Sequence[Sequence[int]]) -> VecStep:
        """Rebuild each worker's episode ``counters[w]`` by replaying ``actions[w]`` from its reset."""
        if len(counters) != self.num_envs or len(actions) != self.num_envs:
            raise ValueError(f"need counters and action lists for all {self.num_envs} workers")
        return self._batch(self._call("replay", [(int(c), [int(a) for a in acts]) for c, acts in zip(counters, actions)]))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for conn in self._conns:
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()

    def __enter__(self) -> VectorHouseEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
