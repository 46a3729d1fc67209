import os

# Keep BLAS/torch from oversubscribing the 2 CI cores when pytest-xdist runs 2 workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


import pytest  # noqa: E402

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
