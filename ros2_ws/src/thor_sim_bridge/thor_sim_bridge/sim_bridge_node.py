"""ROS adapter for the household simulator: executes ``policy/action``, publishes what the robot sees.

Per observation it publishes both cameras (one stamp for both), the expert's hint and the
object-in-hand flag; per step the Safety-CHORES costs; per episode a ``task/episode`` event at
start and end. Episodes start on ``sim/reset`` or, with ``auto_episodes`` > 0, one after another.
It refuses every action while the e-stop is latched or the monitor is silent, and ends the running
episode as "stopped" the moment either happens.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Bool, Float64MultiArray, MultiArrayDimension, String
from std_srvs.srv import Trigger

from safevla_common import timing, topics
from safevla_common.actions import ACTION_INDEX
from safevla_common.episode import EpisodeEvent
from safevla_common.ros.diagnostics import NodeHealth
from safevla_common.ros.estop_guard import EstopGuard
from safevla_common.ros.images import to_msg
from safevla_common.ros.qos import qos_for
from safevla_common.ros.runner import run_node
from thor_sim_bridge.session import EpisodeResult, SimSession
from thor_sim_bridge.video import RecordingWriter


class SimBridgeNode(Node):
    def __init__(self) -> None:
        super().__init__("sim_bridge_node")
        params = {p.name: p.value for p in self.declare_parameters("", [
            ("task", "ObjectNav"),  # or a comma-separated list: episode k runs task k mod n
            ("seed", 0),  # episode k uses seed + k
            ("max_steps", 500),
            ("min_rooms", 2),  # house size range of generated episodes
            ("max_rooms", 4),
            ("auto_episodes", 0),  # > 0: run this many episodes back to back; 0: wait for sim/reset
            ("monitor_timeout_s", 1.0),  # heartbeat gap that stops actuation; matches the watchdog
            ("republish_after_s", 0.05),  # no action this long after an observation: send it again
            ("record_dir", ""),  # write one GIF per episode here
            ("record_every", 2),
        ])}
        self.params = params
        record_every = params["record_every"] if params["record_dir"] else 0  # keep no frames nobody writes
        self.session = SimSession(self._make_env(params), params["seed"], record_every)
        self._lock = threading.RLock()
        self._episode = -1
        self._frames: tuple[Image, Image] | None = None
        self._frames_sent_at = 0.0
        self._recordings = RecordingWriter()  # episode videos, encoded in another process

        work, safety = MutuallyExclusiveCallbackGroup(), MutuallyExclusiveCallbackGroup()
        self.health = NodeHealth(self, callback_group=safety)
        pub = self.create_publisher
        self._nav_pub = pub(Image, topics.NAV_IMAGE, qos_for(topics.NAV_IMAGE))
        self._manip_pub = pub(Image, topics.MANIP_IMAGE, qos_for(topics.MANIP_IMAGE))
        self._instruction_pub = pub(String, topics.INSTRUCTION, qos_for(topics.INSTRUCTION))
        self._episode_pub = pub(String, topics.EPISODE, qos_for(topics.EPISODE))
        self._hint_pub = pub(String, topics.SIM_EXPERT_ACTION, qos_for(topics.SIM_EXPERT_ACTION))
        self._in_hand_pub = pub(Bool, topics.OBJECT_IN_HAND, qos_for(topics.OBJECT_IN_HAND))
        self._cost_pub = pub(Float64MultiArray, topics.SIM_COST, qos_for(topics.SIM_COST))
        self.guard = EstopGuard(self, params["monitor_timeout_s"], self._on_stop, callback_group=safety)
        self.create_subscription(String, topics.ACTION, self._on_action, qos_for(topics.ACTION), callback_group=work)
        self.create_service(Trigger, topics.SIM_RESET, self._on_reset, callback_group=work)
        self.create_timer(params["republish_after_s"] / 2, self._republish_if_unanswered, callback_group=work)
        if params["auto_episodes"] > 0:
            self.create_timer(0.1, self._auto_start, callback_group=work)
        self.get_logger().info(f"embedded simulator ready: task {params['task']}, seed {params['seed']}")

    @staticmethod
    def _make_env(params: dict) -> list:
        from thor_sim_bridge.config import SimConfig
        from thor_sim_bridge.env import HouseEnv

        tasks = [t.strip() for t in params["task"].split(",") if t.strip()]
        return [HouseEnv(SimConfig(task=task, max_steps=params["max_steps"], min_rooms=params["min_rooms"],
                                   max_rooms=params["max_rooms"])) for task in tasks]

    def destroy_node(self) -> None:
        with self._lock:  # an episode that is ending hands over its recording first
            errors = self._recordings.close()  # never leave a half-written video behind
        for err in errors:
            self.get_logger().error(f"an episode recording failed: {err!r}")
        super().destroy_node()

    # -- episodes -------------------------------------------------------------------------------
    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self._lock:
            if self.session.running:
                self._end(self.session.stop("stopped"))
            reason = self.guard.check()
            if reason is not None:  # it could not take a single step: do not start it
                response.success, response.message = False, f"not starting an episode: {reason}"
                return response
            self._start()
            response.success, response.message = True, f"episode {self._episode} started"
        return response

    def _auto_start(self) -> None:
        with self._lock:
            if self.session.running or self._episode + 1 >= self.params["auto_episodes"]:
                return
            if self.guard.may_act():
                self._start()

    def _start(self) -> None:
        self._episode += 1
        obs, info = self.session.start(self._episode)
        stamp = self.get_clock().now().to_msg()
        stamp_ns = stamp.sec * 1_000_000_000 + stamp.nanosec
        self._instruction_pub.publish(String(data=info["instruction"]))
        event = EpisodeEvent(self._episode, "running", task=info["task"], instruction=info["instruction"],
                             start_stamp_ns=stamp_ns)
        self._episode_pub.publish(String(data=event.to_json()))
        self._publish_observation(obs, info, stamp)
        self.get_logger().info(f"episode {self._episode} started: {info['instruction']!r}")

    def _end(self, result: EpisodeResult | None) -> None:
        if result is None:
            return
        # The end goes out first: the monitor stops watching at once, not after the recording.
        if self.params["record_dir"]:
            result.video = str(Path(self.params["record_dir"]) / f"episode_{result.episode:03d}.gif")
        event = EpisodeEvent(result.episode, "ended", task=result.task, instruction=result.instruction,
                             reason=result.reason, result=result.to_dict())
        self._episode_pub.publish(String(data=event.to_json()))
        self.health.counters[f"episodes_{result.reason}"] += 1
        self.get_logger().info(f"episode {result.episode} ended: {result.reason} after {result.length} steps")
        if self.params["record_dir"]:
            frames, top_down = self.session.take_recording()
            self._recordings.submit(result.video, frames, top_down)

    def _on_stop(self, reason: str) -> None:
        with self._lock:
            if self.session.running:
                self.get_logger().error(f"stopping episode {self._episode}: {reason}")
                self._end(self.session.stop("stopped"))

    # -- actions ----------------------------------------------------------------------------------
    def _on_action(self, msg: String) -> None:
        name = msg.data
        if name not in ACTION_INDEX:
            self.health.drop("unknown_action", repr(name))
            return
        with self._lock:
            if not self.session.running:
                self.health.drop("no_episode", f"{name} with no running episode")
                return
            reason = self.guard.check()
            if reason is not None:
                self.health.drop("refused", f"{name} refused: {reason}")
                self._end(self.session.stop("stopped"))
                return
            obs, info, result = self.session.step(name)
            self.health.counters["actions"] += 1
            self._publish_costs(info)
            if result is None:
                self._publish_observation(obs, info, self.get_clock().now().to_msg())
            else:
                self._end(result)

    # -- output -----------------------------------------------------------------------------------
    def _publish_observation(self, obs: dict, info: dict, stamp) -> None:
        stamp_ns = stamp.sec * 1_000_000_000 + stamp.nanosec
        self._in_hand_pub.publish(Bool(data=bool(obs["object_in_hand"])))
        hint = {"stamp_ns": stamp_ns, "action": info["expert_action"], "episode": self._episode}
        self._hint_pub.publish(String(data=json.dumps(hint)))
        self._frames = (to_msg(obs["nav_rgb"], stamp, "nav_camera"), to_msg(obs["manip_rgb"], stamp, "manip_camera"))
        self._send_frames()

    def _send_frames(self) -> None:
        nav, manip = self._frames
        self._nav_pub.publish(nav)
        self._manip_pub.publish(manip)
        self._frames_sent_at = timing.now()

    def _republish_if_unanswered(self) -> None:
        """Best effort may lose a frame; a policy that has not answered gets the observation again."""
        with self._lock:
            if (self._frames is not None and self.session.running
                    and timing.now() - self._frames_sent_at > self.params["republish_after_s"]):
                self.health.counters["republished"] += 1
                self._send_frames()

    def _publish_costs(self, info: dict) -> None:
        costs = info.get("costs", {})
        msg = Float64MultiArray()
        msg.layout.dim = [MultiArrayDimension(label=name, size=1, stride=1) for name in costs]
        msg.data = [float(v) for v in costs.values()]
        self._cost_pub.publish(msg)


def main() -> None:
    raise SystemExit(run_node(SimBridgeNode))
