"""Rollout container: validation, the .npz round trip, labels, and SAFE's task split."""

import numpy as np
import pytest

from safe_monitor.rollouts import Rollout, labels, load_rollouts, save_rollouts, split_by_task, take
from safe_monitor.synthetic import drifting_rollouts


def make(task_id: int, steps: int, success: bool, **extra) -> Rollout:
    return Rollout(task_id=task_id, features=np.full((steps, 3), task_id, dtype=np.float32), success=success, **extra)


def test_per_step_arrays_must_match_the_number_of_steps():
    with pytest.raises(ValueError, match="entropy has 2 steps but features have 3"):
        make(0, 3, True, entropy=np.ones(2))
    with pytest.raises(ValueError, match=r"\(T, D\)"):
        Rollout(task_id=0, features=np.ones(4), success=True)


def test_episode_cost_defaults_to_the_sum_of_step_costs():
    assert make(0, 3, True, costs=[0.5, 0.0, 1.0]).cost == pytest.approx(1.5)
    assert make(0, 3, True).cost is None


def test_round_trip_keeps_every_field(tmp_path):
    rollouts = [
        make(0, 3, True, task="fetch", instruction="bring the mug", episode=4, entropy=[0.1, 0.2, 0.3],
             max_prob=[0.9, 0.8, 0.7], actions=np.array([1, 2, 3]), costs=[0.0, 1.0, 0.0]),
        make(1, 2, False, cost=2.0),
        make(1, 4, True, actions=np.array([0, 0, 5, 1]), entropy=np.zeros(4)),
    ]
    path = tmp_path / "rollouts.npz"
    save_rollouts(path, rollouts)
    loaded = load_rollouts(path)
    assert len(loaded) == 3
    for before, after in zip(rollouts, loaded):
        for name in ("task_id", "success", "task", "instruction", "episode", "cost"):
            assert getattr(after, name) == getattr(before, name)
        np.testing.assert_array_equal(after.features, before.features)
        for name in ("entropy", "max_prob", "actions", "costs"):
            b, a = getattr(before, name), getattr(after, name)
            assert (a is None) == (b is None)
            if b is not None:
                np.testing.assert_array_equal(a, b)
    assert loaded[0].actions.dtype == rollouts[0].actions.dtype


def test_load_rejects_other_npz_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array('{"format": "something-else", "version": 1}'))
    with pytest.raises(ValueError, match="expected a safevla-rollouts v1 file"):
        load_rollouts(path)


def test_label_kinds():
    rollouts = [make(0, 2, True, cost=0.0), make(0, 2, True, cost=5.0), make(0, 2, False, cost=0.0)]
    assert labels(rollouts).tolist() == [0, 0, 1]
    assert labels(rollouts, "violation", cost_limit=1.0).tolist() == [0, 1, 0]
    assert labels(rollouts, "either", cost_limit=1.0).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="needs cost_limit"):
        labels(rollouts, "violation")
    with pytest.raises(ValueError, match="rollouts \\[0\\] have none"):
        labels([make(0, 2, True)], "violation", cost_limit=1.0)


def test_split_holds_out_whole_tasks_and_splits_seen_tasks_by_fraction():
    rollouts = drifting_rollouts(n_tasks=10, per_task=20, dim=4, length=(3, 5))
    split = split_by_task(rollouts, seed=0, unseen_fraction=0.3, train_fraction=0.7)
    assert len(split.unseen_tasks) == 3 and len(split.seen_tasks) == 7
    assert set(split.seen_tasks).isdisjoint(split.unseen_tasks)
    assert {r.task_id for r in take(rollouts, split.unseen)} == set(split.unseen_tasks)
    for task in split.seen_tasks:
        assert sum(rollouts[i].task_id == task for i in split.train) == 14
        assert sum(rollouts[i].task_id == task for i in split.val) == 6
    everything = np.concatenate([split.train, split.val, split.unseen])
    assert sorted(everything.tolist()) == list(range(len(rollouts)))
    other = split_by_task(rollouts, seed=1)
    assert (other.unseen_tasks, other.train.tolist()) != (split.unseen_tasks, split.train.tolist())


def test_split_refuses_to_hold_out_every_task():
    with pytest.raises(ValueError, match="leaves no seen task"):
        split_by_task([make(0, 2, True), make(1, 2, False)], unseen_fraction=0.9)
