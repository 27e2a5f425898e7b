"""SAFE failure detection. Core modules import no ROS; ``monitor_node`` is the ROS adapter."""
