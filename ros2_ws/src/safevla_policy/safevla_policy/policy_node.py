"""ROS adapter for the policy: camera frames in, ``policy/action`` and ``policy/latent`` out.

Three callback groups keep slow inference from starving the safety path: (a) frame and task
inputs only store the newest message and wake (b) the inference callback, (c) the e-stop guard. The node acts
once per new observation, on no frame older than ``max_frame_age_s`` (receive time, steady
clock), and never while the e-stop is latched or the monitor is silent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import numpy as np
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Bool, Float64MultiArray, String

from safevla_common import timing, topics
from safevla_common.episode import EpisodeEvent
from safevla_common.ros.diagnostics import NodeHealth
from safevla_common.ros.estop_guard import EstopGuard
from safevla_common.ros.images import BadImage, from_msg
from safevla_common.ros.messages import latent_to_msg
from safevla_common.ros.qos import qos_for
from safevla_common.ros.runner import run_node
from safevla_policy.backends import make_backend
from safevla_policy.runner import PolicyRunner


@dataclass
class Frame:
    rgb: np.ndarray
    stamp_ns: int
    received: float  # steady clock


def stamp_ns(msg: Image) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


class PolicyNode(Node):
    def __init__(self) -> None:
        super().__init__("policy_node")
        params = {p.name: p.value for p in self.declare_parameters("", [
            ("backend", "model"),  # expert | model | onnx
            ("config", "small"),  # model config name, used when no checkpoint is given
            ("checkpoint", ""),  # folder or file with trained weights; empty: random weights
            ("device", "auto"),
            ("seed", 0),
            ("sampling", "greedy"),
            ("max_frame_age_s", 1.0),
            ("monitor_timeout_s", 1.0),  # heartbeat gap that stops actuation; matches the watchdog
            ("synced_stamps", True),  # sim: both cameras carry the same stamp per observation
            ("image_height", 224),
            ("image_width", 384),
        ])}
        self.params = params
        backend_kwargs = {} if params["backend"] == "expert" else {
            "config": params["config"], "checkpoint": params["checkpoint"] or None,
            "device": params["device"], "seed": params["seed"]}
        backend = make_backend(params["backend"], **backend_kwargs)
        self.runner = PolicyRunner(backend, params["sampling"], params["seed"])
        warm_ms = self.runner.warm_up((params["image_height"], params["image_width"]))
        self._needs_hint = getattr(backend, "needs_expert_hint", False)
        self._hw = (params["image_height"], params["image_width"])
        self._lock = threading.Lock()
        self._nav: Frame | None = None
        self._manip: Frame | None = None
        self._hint: dict | None = None
        self._object_in_hand = False
        self._instruction = ""
        self._pending_episode: EpisodeEvent | None = None
        self._running = False
        self._last_acted_stamp = -1

        inputs, inference, safety = (MutuallyExclusiveCallbackGroup() for _ in range(3))
        self.health = NodeHealth(self, callback_group=safety)
        self.guard = EstopGuard(self, params["monitor_timeout_s"], self._on_stop, callback_group=safety)
        self._action_pub = self.create_publisher(String, topics.ACTION, qos_for(topics.ACTION))
        self._latent_pub = self.create_publisher(Float64MultiArray, topics.LATENT, qos_for(topics.LATENT))
        sub = self.create_subscription
        sub(Image, topics.NAV_IMAGE, lambda m: self._on_image(m, "nav"), qos_for(topics.NAV_IMAGE), callback_group=inputs)
        sub(Image, topics.MANIP_IMAGE, lambda m: self._on_image(m, "manip"), qos_for(topics.MANIP_IMAGE),
            callback_group=inputs)
        sub(String, topics.INSTRUCTION, self._on_instruction, qos_for(topics.INSTRUCTION), callback_group=inputs)
        sub(String, topics.EPISODE, self._on_episode, qos_for(topics.EPISODE), callback_group=inputs)
        sub(String, topics.SIM_EXPERT_ACTION, self._on_hint, qos_for(topics.SIM_EXPERT_ACTION), callback_group=inputs)
        sub(Bool, topics.OBJECT_IN_HAND, self._on_object_in_hand, qos_for(topics.OBJECT_IN_HAND),
            callback_group=inputs)
        # Inference runs when an input arrives (no polling): inputs trigger this guard condition.
        self._wake = self.create_guard_condition(self._maybe_act, callback_group=inference)
        self.get_logger().info(f"policy backend '{backend.name}' ready (latent dim {backend.latent_dim}, "
                               f"warm step {warm_ms:.1f} ms)")

    # -- inputs: validate, store the newest, nothing else -------------------------------------
    def _on_image(self, msg: Image, camera: str) -> None:
        try:
            rgb = from_msg(msg, self._hw)
        except BadImage as err:
            self.health.drop("bad_image", f"{camera} camera: {err}")
            return
        frame = Frame(rgb, stamp_ns(msg), timing.now())
        with self._lock:
            setattr(self, f"_{camera}", frame)
        self._wake.trigger()

    def _on_instruction(self, msg: String) -> None:
        if not msg.data.strip():
            self.health.drop("empty_instruction", "instruction is empty")
            return
        with self._lock:
            self._instruction = msg.data
        self._wake.trigger()

    def _on_episode(self, msg: String) -> None:
        try:
            event = EpisodeEvent.from_json(msg.data)
        except ValueError as err:
            self.health.drop("bad_episode_event", str(err))
            return
        with self._lock:
            if event.state == "running":
                self._pending_episode = event
            elif event.episode == self.runner.episode:
                self._running = False
        self._wake.trigger()

    def _on_hint(self, msg: String) -> None:
        try:
            hint = json.loads(msg.data)
            hint = {"stamp_ns": int(hint["stamp_ns"]), "action": str(hint["action"])}
        except (ValueError, KeyError, TypeError) as err:
            self.health.drop("bad_expert_hint", repr(err))
            return
        with self._lock:
            self._hint = hint
        self._wake.trigger()

    def _on_object_in_hand(self, msg: Bool) -> None:
        self._object_in_hand = bool(msg.data)

    def _on_stop(self, reason: str) -> None:
        self.get_logger().warn(f"not acting: {reason}")

    # -- inference ------------------------------------------------------------------------------
    def _maybe_act(self) -> None:
        with self._lock:
            self._start_pending_episode()
            obs = self._take_observation()
        if obs is None or not self.guard.may_act():
            return
        nav, manip, hint = obs
        try:
            result = self.runner.act(nav.rgb, manip.rgb, self._object_in_hand, hint)
        except ValueError as err:
            self.health.drop("inference_error", str(err))
            return
        self.health.timing("step", result.step_ms)
        self.health.counters["steps"] += 1
        self._latent_pub.publish(latent_to_msg(result.latent))
        if self.guard.may_act():  # the e-stop may have latched during inference
            self._action_pub.publish(String(data=result.action_name))

    def _start_pending_episode(self) -> None:
        event = self._pending_episode
        if event is None:
            return
        instruction = self._instruction or event.instruction
        if not instruction.strip():
            return  # wait for the instruction
        self._pending_episode = None
        # Sampling is reseeded per episode: episode k acts the same whatever happened before it, so two
        # runs (say with and without a SAFE monitor) can be compared episode by episode.
        self.runner.start_episode(event.episode, instruction, seed=self.params["seed"] + event.episode)
        self._running = True
        self._last_acted_stamp = event.start_stamp_ns - 1
        self.get_logger().info(f"episode {event.episode}: {instruction!r}")

    def _take_observation(self) -> tuple[Frame, Frame, str | None] | None:
        """The newest unused, fresh, consistent observation, or None (lock held)."""
        nav, manip = self._nav, self._manip
        if not self._running or nav is None or manip is None or nav.stamp_ns <= self._last_acted_stamp:
            return None
        if self.params["synced_stamps"] and manip.stamp_ns != nav.stamp_ns:
            return None
        now = timing.now()
        age = now - min(nav.received, manip.received)
        if age > self.params["max_frame_age_s"]:
            self.health.drop("stale_frame", f"newest frame is {age:.2f} s old")
            self._last_acted_stamp = nav.stamp_ns  # count it once, never act on it
            return None
        hint = None
        if self._needs_hint:
            if self._hint is None or self._hint["stamp_ns"] != nav.stamp_ns:
                return None
            hint = self._hint["action"]
        self._last_acted_stamp = nav.stamp_ns
        return nav, manip, hint


def main() -> None:
    raise SystemExit(run_node(PolicyNode))
