"""The monitor's decision logic, free of ROS: score each step, latch the e-stop, watch for silence.

Safety rules it implements (design.md):
1. The e-stop latches; only ``request_reset`` clears it, and only while the inputs are healthy
   (during a running episode: a valid latent arrived within the watchdog period).
2. Fail safe: during a running episode, no valid latent for ``watchdog_period_s`` (or none within
   ``startup_timeout_s`` of the episode start) trips the e-stop.
3. All ages are measured on the steady clock at receipt, never from message stamps.
4. Invalid latents are rejected by the caller before they get here and never refresh the watchdog.

Between episodes no latents are expected, so silence is healthy then; a policy that died between
episodes is caught by the startup timeout of the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from safevla_common.episode import EpisodeEvent
from safevla_common.latent import LatentStep
from safe_monitor.detectors import Detector


@dataclass
class MonitorConfig:
    watchdog_period_s: float = 0.5
    """Longest allowed gap between latents while an episode runs."""
    startup_timeout_s: float = 5.0
    """Longest allowed wait for an episode's first latent (model warm-up)."""


@dataclass(frozen=True)
class Verdict:
    """What the monitor concluded from one step."""

    score: float
    threshold: float
    tripped: bool  # this step latched the e-stop


class SafetyMonitor:
    def __init__(self, detector: Detector, config: MonitorConfig | None = None) -> None:
        self.detector = detector
        self.config = config or MonitorConfig()
        self.latched = False
        self.latch_reason = ""
        self.trips = 0
        self.episode: int | None = None
        self.running = False
        self._episode_started_at = 0.0
        self._last_latent_at: float | None = None

    # -- inputs -----------------------------------------------------------------------------
    def on_episode(self, event: EpisodeEvent, now: float) -> None:
        if event.state == "running":
            if event.episode != self.episode or not self.running:
                self._start_episode(event.episode, now)
        elif event.episode == self.episode:
            self.running = False

    def on_latent(self, step: LatentStep, now: float) -> Verdict | None:
        """Score a validated step; None when it belongs to an episode that is over (ignored)."""
        if step.episode != self.episode:
            if self.episode is not None and step.episode < self.episode:
                return None
            self._start_episode(step.episode, now)  # a robot without an episode publisher
        elif not self.running:
            return None
        self._last_latent_at = now
        score = self.detector.score(step)
        threshold = self.detector.threshold(step.step)
        tripped = score >= threshold and self._trip(
            f"failure predicted at episode {step.episode} step {step.step}: score {score:.4g} >= {threshold:.4g}")
        return Verdict(score, threshold, tripped)

    def check_watchdog(self, now: float) -> bool:
        """Trip if the running episode's latents went silent; True when this call latched."""
        problem = self._input_problem(now)
        return problem is not None and self._trip(problem)

    def request_reset(self, now: float) -> tuple[bool, str]:
        problem = self._input_problem(now)
        if problem is not None:
            return False, f"reset refused: {problem}"
        was = self.latch_reason
        self.latched, self.latch_reason = False, ""
        return True, f"e-stop cleared (was: {was})" if was else "e-stop was not latched"

    # -- internals --------------------------------------------------------------------------
    def _start_episode(self, episode: int, now: float) -> None:
        self.episode, self.running = episode, True
        self._episode_started_at, self._last_latent_at = now, None
        self.detector.reset()

    def _input_problem(self, now: float) -> str | None:
        if not self.running:
            return None
        if self._last_latent_at is None:
            waited = now - self._episode_started_at
            if waited > self.config.startup_timeout_s:
                return f"no latent {waited:.2f} s after episode {self.episode} started"
            return None
        silent = now - self._last_latent_at
        if silent > self.config.watchdog_period_s:
            return f"no latent for {silent:.2f} s (watchdog {self.config.watchdog_period_s:.2f} s)"
        return None

    def _trip(self, reason: str) -> bool:
        if self.latched:
            return False
        self.latched, self.latch_reason = True, reason
        self.trips += 1
        return True
