"""Bringup for SafeVLA-ROS: parameter files, launch files, and a launcher for pip-only machines."""
