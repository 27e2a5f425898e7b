"""Readers for SAFE's OpenVLA and openpi dumps, on small synthetic dumps written here."""

import csv
import os
import pickle

import numpy as np
import pytest

from safe_monitor.safe_dumps import load_dump, read_openpi_dumps, read_openvla_dumps, reduce_tokens

ml_dtypes = pytest.importorskip("ml_dtypes")
torch = pytest.importorskip("torch")


def write_pickle(path, data) -> None:
    with open(path, "wb") as f:
        pickle.dump(data, f)


def openvla_record(task: int, episode: int, success: bool, hidden) -> dict:
    return {"hidden_states": hidden, "task_suite_name": "libero_10", "task_id": task,
            "task_description": f"task {task}", "eposide_idx": episode, "episode_success": success,
            "mp4_path": f"task{task}--ep{episode}.mp4"}


def write_openvla_csv(path, probs: np.ndarray, entropies: np.ndarray, actions: np.ndarray) -> None:
    names = ["dx", "dy", "dz", "droll", "dpitch", "dyaw", "dgripper"]
    header = ([f"action/token_{i}_prob" for i in range(7)] + [f"action/token_{i}_entropy" for i in range(7)]
              + [f"action/{n}" for n in names])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(np.concatenate([probs, entropies, actions], axis=1).tolist())


def test_openvla_dumps_numpy_and_torch_with_csv(tmp_path):
    rng = np.random.default_rng(0)
    hidden_a = rng.normal(size=(3, 7, 8)).astype(np.float32)
    hidden_b = torch.randn(4, 7, 8).to(torch.bfloat16)  # SAFE's own dumps hold torch tensors
    write_pickle(tmp_path / "task10--ep0--succ0.pkl", openvla_record(10, 0, False, hidden_b))
    write_pickle(tmp_path / "task2--ep5--succ1.pkl", openvla_record(2, 5, True, hidden_a))
    probs, entropies, actions = rng.uniform(0.2, 1.0, (3, 7)), rng.uniform(0, 2, (3, 7)), rng.normal(size=(3, 7))
    write_openvla_csv(tmp_path / "task2--ep5--succ1.csv", probs, entropies, actions)

    first, second = read_openvla_dumps(tmp_path, reduction="mean", token_stat="max")
    assert (first.task_id, first.episode, first.success, second.task_id) == (2, 5, True, 10)  # numeric order
    assert first.instruction == "task 2" and first.task == "libero_10/task2"
    np.testing.assert_allclose(first.features, hidden_a.mean(1), rtol=1e-6)
    np.testing.assert_allclose(second.features, hidden_b.float().numpy().mean(1), rtol=1e-6)
    np.testing.assert_allclose(first.entropy, entropies.max(1), rtol=1e-6)
    np.testing.assert_allclose(-np.log(first.max_prob), (-np.log(probs)).max(1), rtol=1e-5)
    np.testing.assert_allclose(first.actions, actions, rtol=1e-6)
    assert second.entropy is None and second.actions is None

    concat, _ = read_openvla_dumps(tmp_path, reduction="first_last", token_stat="mean")
    np.testing.assert_allclose(concat.features, np.concatenate([hidden_a[:, 0], hidden_a[:, -1]], 1))
    np.testing.assert_allclose(-np.log(concat.max_prob), (-np.log(probs)).mean(1), rtol=1e-5)


def test_reductions_cover_every_axis_innermost_first():
    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # (flow steps, horizon, dim) as pi0
    np.testing.assert_allclose(reduce_tokens(x, "mean"), x.mean((0, 1)))
    np.testing.assert_allclose(reduce_tokens(x, ("last", "first")), x[0, -1])
    np.testing.assert_allclose(reduce_tokens(x[0], "first_last"), np.concatenate([x[0, 0], x[0, -1]]))
    with pytest.raises(ValueError, match="first, last, mean or first_last"):
        reduce_tokens(x, "median")


def write_openpi(root, episodes: list[tuple[int, int, int, int]], dim: int = 6) -> None:
    """episodes: (task, episode, success, inference calls); record i holds features equal to i."""
    (root / "env_records").mkdir()
    (root / "policy_records").mkdir()
    for task, episode, success, calls in episodes:
        write_pickle(root / "env_records" / f"task{task}--ep{episode}--succ{success}.pkl",
                     {"task_suite_name": "libero_10", "task_id": task, "task_description": f"task {task}",
                      "episode_idx": episode, "episode_success": success, "model_infer_times": calls,
                      "replan_steps": 5})
    total = sum(e[3] for e in episodes)
    for step in range(total):
        tokens = 3 + step % 2
        write_pickle(root / "policy_records" / f"step_{step}--t{step}--meta.pkl", {
            "prompt": "x", "state": np.zeros(8), "actions": np.full((10, 7), step, dtype=np.float64),
            "pre_logits": np.full((tokens, dim), step, dtype=ml_dtypes.bfloat16),
            "logits": np.zeros((tokens, 5), dtype=ml_dtypes.bfloat16),
            "pre_velocity": np.full((2, 4, dim), step, dtype=np.float32)})


def test_openpi_dumps_assign_policy_records_in_run_order(tmp_path):
    write_openpi(tmp_path, [(1, 0, 1, 2), (0, 1, 0, 5), (0, 0, 1, 4)])  # 11 records: step_10 sorts after step_9
    rollouts = read_openpi_dumps(tmp_path, feature="pre_logits")
    assert [(r.task_id, r.episode, r.success) for r in rollouts] == [(0, 0, True), (0, 1, False), (1, 0, True)]
    np.testing.assert_array_equal(rollouts[0].features[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(rollouts[1].features[:, 0], [4, 5, 6, 7, 8])
    np.testing.assert_array_equal(rollouts[2].features[:, 0], [9, 10])
    assert rollouts[1].features.dtype == np.float32 and rollouts[1].actions.shape == (5, 70)
    np.testing.assert_allclose(rollouts[0].entropy, np.log(5), rtol=1e-6)  # uniform logits over 5 tokens
    np.testing.assert_allclose(rollouts[0].max_prob, 0.2, rtol=1e-6)
    pi0 = read_openpi_dumps(tmp_path, feature="pre_velocity")
    np.testing.assert_array_equal(pi0[2].features[:, 0], [9, 10])


def test_openpi_dumps_with_missing_policy_records_are_refused(tmp_path):
    write_openpi(tmp_path, [(0, 0, 1, 2), (0, 1, 0, 2)])
    os.remove(tmp_path / "policy_records" / "step_3--t3--meta.pkl")
    with pytest.raises(ValueError, match="need 4 policy records, found 3"):
        read_openpi_dumps(tmp_path)


class Exploit:
    def __init__(self, target) -> None:
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


def test_a_dump_that_names_code_is_refused_not_run(tmp_path):
    target = tmp_path / "pwned"
    write_pickle(tmp_path / "task0--ep0--succ1.pkl", {"hidden_states": Exploit(target)})
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        load_dump(tmp_path / "task0--ep0--succ1.pkl")
    assert not target.exists()
