"""The SafeVLA policy. Core modules import no ROS; ``policy_node`` is the ROS adapter."""
