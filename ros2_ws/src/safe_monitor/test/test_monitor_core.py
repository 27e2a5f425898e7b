"""The monitor's safety rules, on the ROS-free core with an explicit clock."""

import numpy as np
import pytest

from safevla_common.episode import EpisodeEvent
from safevla_common.latent import LatentStep
from safe_monitor.detectors import EntropyDetector
from safe_monitor.monitor import MonitorConfig, SafetyMonitor


def step(episode: int, index: int, entropy: float) -> LatentStep:
    return LatentStep(episode, index, np.zeros(8, np.float32), entropy, 0.5)


@pytest.fixture
def monitor() -> SafetyMonitor:
    m = SafetyMonitor(EntropyDetector(threshold=2.0), MonitorConfig(watchdog_period_s=0.5, startup_timeout_s=2.0))
    m.on_episode(EpisodeEvent(0, "running"), now=0.0)
    return m


def test_crossing_the_threshold_latches_and_stays_latched(monitor):
    assert not monitor.on_latent(step(0, 0, 1.0), now=0.1).tripped
    verdict = monitor.on_latent(step(0, 1, 2.5), now=0.2)
    assert verdict.tripped and monitor.latched and "score 2.5" in monitor.latch_reason
    assert not monitor.on_latent(step(0, 2, 0.1), now=0.3).tripped  # score dropped ...
    assert monitor.latched  # ... the latch holds
    assert monitor.trips == 1


def test_reset_clears_only_while_latents_flow(monitor):
    monitor.on_latent(step(0, 0, 3.0), now=0.1)
    ok, why = monitor.request_reset(now=1.0)  # last latent 0.9 s ago > watchdog
    assert not ok and "refused" in why and monitor.latched
    monitor.on_latent(step(0, 1, 0.5), now=1.1)
    ok, _ = monitor.request_reset(now=1.2)
    assert ok and not monitor.latched


def test_silence_during_an_episode_trips_the_watchdog(monitor):
    monitor.on_latent(step(0, 0, 0.5), now=0.1)
    assert not monitor.check_watchdog(now=0.55)
    assert monitor.check_watchdog(now=0.65)
    assert monitor.latched and "no latent" in monitor.latch_reason


def test_missing_first_latent_trips_after_startup_timeout(monitor):
    assert not monitor.check_watchdog(now=1.9)
    assert monitor.check_watchdog(now=2.1)


def test_silence_between_episodes_is_healthy(monitor):
    monitor.on_latent(step(0, 0, 0.5), now=0.1)
    monitor.on_episode(EpisodeEvent(0, "ended", reason="success"), now=0.2)
    assert not monitor.check_watchdog(now=100.0)
    assert monitor.on_latent(step(0, 1, 0.5), now=100.1) is None  # a late latent of the ended episode


def test_a_new_episode_resets_the_detector_state():
    class Counting(EntropyDetector):
        resets = 0

        def reset(self):
            Counting.resets += 1

    m = SafetyMonitor(Counting(2.0))
    m.on_latent(step(3, 0, 0.1), now=0.0)  # no episode publisher: the latent's episode starts one
    m.on_episode(EpisodeEvent(4, "running"), now=1.0)
    assert Counting.resets == 2 and m.episode == 4


def test_monitor_file_of_another_latent_size_is_refused_at_start(tmp_path):
    from safe_monitor.monitor_file import save_monitor
    from safe_monitor.monitor_node import make_detector
    from safe_monitor.safe_detectors import SafeMLPDetector

    detector = SafeMLPDetector(np.zeros((4, 8), np.float32), np.zeros(4, np.float32), np.zeros(4, np.float32),
                               np.zeros(1, np.float32))
    detector.set_threshold(0.5)
    path = tmp_path / "monitor.safetensors"
    save_monitor(path, detector, feature={"source": "test"})
    assert make_detector(str(path), 2.5, latent_dim=8).latent_dim == 8
    with pytest.raises(ValueError, match="512"):
        make_detector(str(path), 2.5, latent_dim=512)
