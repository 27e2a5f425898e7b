"""Simulated SafeVLA-ROS: sim bridge, policy and SAFE monitor, each in its own process.

    ros2 launch safevla sim.launch.py [backend:=expert|model|onnx] [episodes:=N] [domain_id:=42]

The same parameter file drives `make sim` on machines without `ros2 launch`.
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from ament_index_python.packages import get_package_share_directory


def generate_launch_description() -> LaunchDescription:
    params = os.path.join(get_package_share_directory("safevla"), "launch", "params", "sim.yaml")
    backend = LaunchConfiguration("backend")
    episodes = LaunchConfiguration("episodes")
    return LaunchDescription([
        DeclareLaunchArgument("backend", default_value="expert", description="expert | model | onnx"),
        DeclareLaunchArgument("episodes", default_value="3", description="episodes to run back to back"),
        DeclareLaunchArgument("domain_id", default_value="42"),
        # The loopback rule: DDS discovery never leaves this host.
        SetEnvironmentVariable("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST"),
        SetEnvironmentVariable("ROS_DOMAIN_ID", LaunchConfiguration("domain_id")),
        Node(package="thor_sim_bridge", executable="sim_bridge_node", output="screen",
             parameters=[params, {"auto_episodes": episodes}]),
        Node(package="safevla_policy", executable="policy_node", output="screen",
             parameters=[params, {"backend": backend}]),
        Node(package="safe_monitor", executable="monitor_node", output="screen", parameters=[params]),
    ])
