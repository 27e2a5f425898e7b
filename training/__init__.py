"""Offline training of the SafeVLA policy: imitation from the expert, then PPO-Lagrangian (``train.py``)."""
