"""Gymnasium ids for the embedded simulator. Importing this module registers them:

    import gymnasium as gym
    env = gym.make("thor_sim_bridge.registration:SafeVLA/HouseObjectNav-v0", image_height=112, image_width=192)
"""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "SafeVLA/HouseObjectNav-v0": "ObjectNav",
    "SafeVLA/HousePickUp-v0": "PickUp",
    "SafeVLA/HouseFetch-v0": "Fetch",
}

for env_id, task in ENV_IDS.items():
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point="thor_sim_bridge.env:HouseEnv", kwargs={"task": task})
