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


def test_recordings_are_written_by_the_worker_and_failures_reported(tmp_path):
    from thor_sim_bridge.video import RecordingWriter

    frames = [np.full((8, 12, 3), v, np.uint8) for v in (0, 128, 255)]
    writer = RecordingWriter()
    with_map = writer.submit(tmp_path / "ep0.gif", frames, np.zeros((10, 10, 3), np.uint8))
    writer.submit(tmp_path / "ep1.gif", frames, None)
    bad = writer.submit(tmp_path / "bad.gif", [], None)
    errors = writer.close()  # waits for all three
    assert with_map.result() == tmp_path / "ep0.gif"
    assert iio.imread(tmp_path / "ep0.gif", index=None).shape[:3] == (3, 8, 12)
    assert (tmp_path / "ep0_map.png").is_file() and (tmp_path / "ep1.gif").is_file()
    assert not (tmp_path / "ep1_map.png").exists()
    assert len(errors) == 1 and "non-empty" in str(errors[0]) and bad.exception() is errors[0]
