import os

# Keep BLAS/torch from oversubscribing the 2 CI cores when pytest-xdist runs 2 workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _torch_threads_are_left_as_found():
    """A test (or the code it calls inline) that changes torch's thread count changes how every later
    test in the same worker rounds its sums: the bit-identical-checkpoint test failed that way. Fail
    the test that leaks, not the one that happens to run next."""
    import torch

    before = torch.get_num_threads()
    yield
    after = torch.get_num_threads()
    assert after == before, f"torch thread count changed from {before} to {after} by this test and not restored"

# The smallest pixel world model that trains in about a second: what the hardening tests roll out.
TINY_NET = ["model.channels=[8,8]", "model.residual_channels=[8,8]", "model.cond_dim=16", "model.text_dim=16",
            "train.batch_size=2", "train.val_every=0", "train.log_every=1"]


def synthetic_dataset(root, n_train: int = 2, n_test: int = 6, size: int = 32, frames: int = 20, seed: int = 100):
    """A closed-form dataset folder (eval.synthetic): train and test clips, simulate's layout."""
    from orrery.eval.synthetic import scene, write_dataset

    clips = [scene(size, frames, seed=i, key=f"t{i}") for i in range(n_train)]
    clips = [(f, m, dict(meta, split="train")) for f, m, meta in clips]
    clips += [scene(size, frames, seed=seed + i, key=f"s{i}") for i in range(n_test)]
    write_dataset(root, clips)
    return root


def train_tiny(data, out, steps: int = 2, extra=()):
    from orrery.recipes.world import train_world

    return train_world(data, out, "pixel", "tiny", sets=[*TINY_NET, f"train.steps={steps}", "train.ckpt_every=1",
                                                        *extra], progress=False)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(dataset folder, run folder of a 2-step pixel model trained on it)."""
    root = tmp_path_factory.mktemp("tiny")
    data = synthetic_dataset(root / "ds")
    train_tiny(data, root / "run")
    return data, root / "run"


ELEVEN = ("uniform_motion", "projectile", "bounce", "collision_1d", "collisions_2d", "pendulum", "spring", "incline",
          "many_bodies", "phyre", "push")


def all_scenarios_spec(size: int, test: int = 4, frames: int = 16, seed: int = 0) -> dict:
    """A small dataset spec of every built-in scenario (default parameters) at `size` px."""
    return {"name": f"all{size}", "seed": seed, "video": {"size": size, "fps": 15, "frames": frames},
            "shard_size": 64, "scenarios": [{"scenario": s, "clips": {"train": 1, "test": test}} for s in ELEVEN]}


@pytest.fixture(scope="session")
def eleven(tmp_path_factory):
    """size -> a dataset folder with 4 test clips of each of the eleven scenarios (16 frames)."""
    from orrery.sim.simulate import simulate

    made = {}

    def get(size: int):
        if size not in made:
            out = tmp_path_factory.mktemp(f"eleven{size}")
            simulate(all_scenarios_spec(size), out, progress=False)
            made[size] = out
        return made[size]

    return get
