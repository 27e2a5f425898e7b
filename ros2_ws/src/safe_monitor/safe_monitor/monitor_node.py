"""ROS adapter for the SAFE monitor: latents in, scores and a latched e-stop out.

Subscribes ``policy/latent`` and ``task/episode``; publishes ``safety/score`` per step and
``safety/estop`` (reliable, transient local) on every change and at ``heartbeat_hz`` (the
actuators' dead-man signal); serves ``safety/reset``; reports on ``/diagnostics``.
"""

from __future__ import annotations

import threading

from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger

from safevla_common import timing, topics
from safevla_common.episode import EpisodeEvent
from safevla_common.ros.diagnostics import NodeHealth
from safevla_common.ros.messages import Score, latent_from_msg, score_to_msg
from safevla_common.ros.qos import qos_for
from safevla_common.ros.runner import run_node
from safe_monitor.detectors import Detector, EntropyDetector
from safe_monitor.monitor import MonitorConfig, SafetyMonitor


def make_detector(kind: str, entropy_threshold: float, latent_dim: int = 0) -> Detector:
    """"entropy", or a monitor file; a file fitted on another latent size than ``latent_dim`` (when
    known, > 0) is refused here, before anything moves, with the sizes in the message."""
    if kind == "entropy":
        return EntropyDetector(entropy_threshold)
    from safe_monitor.monitor_file import load_monitor

    return load_monitor(kind, expected_latent_dim=latent_dim or None)


class MonitorNode(Node):
    def __init__(self) -> None:
        super().__init__("monitor_node")
        p = self.declare_parameters("", [
            ("detector", "entropy"),  # "entropy", or a path to a monitor file from `train.py safe`
            ("entropy_threshold", 2.5),
            ("latent_dim", 0),  # the policy's latent size, when known: checked against the monitor file
            ("watchdog_period_s", 0.5),
            ("startup_timeout_s", 5.0),
            ("heartbeat_hz", 20.0),
        ])
        params = {param.name: param.value for param in p}
        detector = make_detector(params["detector"], params["entropy_threshold"], params["latent_dim"])
        self.monitor = SafetyMonitor(detector, MonitorConfig(params["watchdog_period_s"], params["startup_timeout_s"]))
        self._lock = threading.Lock()
        inputs, safety = MutuallyExclusiveCallbackGroup(), MutuallyExclusiveCallbackGroup()

        self.health = NodeHealth(self, callback_group=safety)
        self._estop_pub = self.create_publisher(Bool, topics.ESTOP, qos_for(topics.ESTOP))
        self._score_pub = self.create_publisher(Float64MultiArray, topics.SCORE, qos_for(topics.SCORE))
        self.create_subscription(Float64MultiArray, topics.LATENT, self._on_latent, qos_for(topics.LATENT),
                                 callback_group=inputs)
        self.create_subscription(String, topics.EPISODE, self._on_episode, qos_for(topics.EPISODE),
                                 callback_group=inputs)
        self.create_service(Trigger, topics.SAFETY_RESET, self._on_reset, callback_group=safety)
        self.create_timer(min(0.02, params["watchdog_period_s"] / 5), self._check_watchdog, callback_group=safety)
        self.create_timer(1.0 / params["heartbeat_hz"], self._publish_estop, callback_group=safety)
        self.get_logger().info(f"monitoring with detector '{detector.name}', watchdog {params['watchdog_period_s']} s")
        self._publish_estop()

    def _on_latent(self, msg: Float64MultiArray) -> None:
        received = timing.now()
        try:
            step = latent_from_msg(msg)
            step.validate(self.monitor.detector.latent_dim)
        except ValueError as err:
            self.health.drop("bad_latent", str(err))
            return
        with self._lock:
            verdict = self.monitor.on_latent(step, received)
        if verdict is None:
            self.health.drop("stale_episode", f"latent of episode {step.episode} after it ended")
            return
        self.health.timing("score", (timing.now() - received) * 1e3)
        self.health.counters["latents"] += 1
        if verdict.tripped:
            self._latched_now()
        self._score_pub.publish(score_to_msg(Score(step.episode, step.step, verdict.score, verdict.threshold)))

    def _on_episode(self, msg: String) -> None:
        try:
            event = EpisodeEvent.from_json(msg.data)
        except ValueError as err:
            self.health.drop("bad_episode_event", str(err))
            return
        with self._lock:
            self.monitor.on_episode(event, timing.now())

    def _check_watchdog(self) -> None:
        with self._lock:
            tripped = self.monitor.check_watchdog(timing.now())
        if tripped:
            self._latched_now()

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self._lock:
            response.success, response.message = self.monitor.request_reset(timing.now())
        self.get_logger().info(response.message)
        self._publish_estop()
        return response

    def _latched_now(self) -> None:
        self._publish_estop()  # first: logging costs a few hundred microseconds
        self.get_logger().error(f"E-STOP LATCHED: {self.monitor.latch_reason}")

    def _publish_estop(self) -> None:
        latched = self.monitor.latched
        self._estop_pub.publish(Bool(data=latched))
        self.health.state.update(estop=str(latched), reason=self.monitor.latch_reason,
                                 episode=str(self.monitor.episode), trips=str(self.monitor.trips))
        self.health.level = DiagnosticStatus.ERROR if latched else DiagnosticStatus.OK
        self.health.message = f"E-STOP: {self.monitor.latch_reason}" if latched else "ok"


def main() -> None:
    raise SystemExit(run_node(MonitorNode, threads=1))
