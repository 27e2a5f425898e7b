import imageio.v3 as iio
import numpy as np
import pytest

from thor_sim_bridge.env import HouseEnv
from thor_sim_bridge.video import write_gif


def test_episode_frames_to_gif(tmp_path):
    env = HouseEnv(seed=0, image_height=56, image_width=96)
    obs, _ = env.reset()
    frames = [obs["nav_rgb"]] + [env.step(1)[0]["nav_rgb"] for _ in range(4)]
    path = write_gif(tmp_path / "episode.gif", frames, fps=5)
    back = iio.imread(path, index=None)
    assert back.shape[:3] == (5, 56, 96)
    assert np.array_equal(back[0][..., :3], frames[0])


def test_no_frames_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        write_gif(tmp_path / "empty.gif", [])
