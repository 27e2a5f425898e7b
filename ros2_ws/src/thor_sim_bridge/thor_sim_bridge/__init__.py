"""Household simulation for SafeVLA. Core modules import no ROS; ``sim_bridge_node`` is the ROS adapter."""
