"""Without Ray: the executor's ledger of the cluster (placement, reclaiming idle actors, feasibility) and
directories as bytes (checkpoints between nodes that share no filesystem)."""

from __future__ import annotations

from pathlib import Path

from tune_ray import transfer
from tune_ray.ledger import Ledger, actor_options, from_ray_nodes, ray_bundle
from tunecore.executors import Resources

NODES = [
    {"NodeID": "a", "Alive": True, "NodeManagerAddress": "10.0.0.1", "Resources": {"CPU": 2.0, "GPU": 1.0, "Big": 1.0}},
    {"NodeID": "b", "Alive": True, "NodeManagerAddress": "10.0.0.2", "Resources": {"CPU": 1.0, "memory": 4e9}},
    {"NodeID": "c", "Alive": False, "NodeManagerAddress": "10.0.0.3", "Resources": {"CPU": 64.0}},
]


def ledger() -> Ledger:
    return Ledger(*from_ray_nodes(NODES))


def test_nodes_come_from_ray_with_tunecore_names_and_dead_ones_left_out() -> None:
    made = ledger()
    assert sorted(made.nodes) == ["a", "b"]
    assert made.nodes["a"].capacity == {"cpu": 2.0, "gpu": 1.0, "big": 1.0}
    assert made.ray_names["big"] == "Big" and made.ray_names["cpu"] == "CPU"
    assert "2 nodes: 10.0.0.1 (cpu=2, gpu=1, big=1); 10.0.0.2 (cpu=1, memory=4 GB, gpu=0)" == made.describe()


def test_feasibility_is_per_node_and_per_bundle() -> None:
    made = ledger()
    assert made.feasible(Resources({"cpu": 2, "gpu": 1}))
    assert not made.feasible(Resources({"cpu": 3})), "3 CPUs exist only across two nodes"
    assert made.feasible(Resources([{"cpu": 2}, {"cpu": 1}])), "bundles may go to different nodes"
    assert not made.feasible(Resources([{"cpu": 2}, {"cpu": 2}]))
    assert not made.feasible(Resources({"cpu": 1, "memory": 8e9}))
    assert not made.feasible(Resources({"cpu": 1, "tpu": 1}))


def test_capacity_counts_booked_actors_and_idle_ones_as_reclaimable() -> None:
    made = ledger()
    one = Resources({"cpu": 1})
    assert made.how_many(one, 100) == 3
    first, second = made.place(one), None
    assert first == ["a"]
    made.book(first, one)
    second = made.place(one)
    assert second == ["a"]
    made.book(second, one)
    assert made.how_many(one, 100) == 1
    gpu = Resources({"cpu": 1, "gpu": 1})
    assert made.how_many(gpu, 100) == 0 and made.place(gpu) is None
    made.set_idle(first, one, idle=True)  # an idle actor of another shape holds what the GPU trial needs
    assert made.how_many(gpu, 100) == 1, "idle actors must not keep a trial of another shape waiting"
    assert made.place(gpu) is None and made.place_reclaiming(gpu) == ["a"]
    made.set_idle(first, one, idle=False)
    made.unbook(first, one)
    assert made.place(gpu) == ["a"]


def test_refresh_drops_dead_nodes_and_adds_new_ones() -> None:
    made = ledger()
    joined = [*NODES[:1], {"NodeID": "d", "Alive": True, "NodeManagerAddress": "10.0.0.4", "Resources": {"CPU": 4.0}}]
    assert made.refresh(*from_ray_nodes(joined)) == ["b"]
    assert sorted(made.nodes) == ["a", "d"]
    assert made.feasible(Resources({"cpu": 4}))


def test_requests_in_rays_names() -> None:
    names = ledger().ray_names
    bundle = {"cpu": 1.0, "gpu": 0.5, "memory": 2.5e9, "big": 1.0, "none": 0.0}
    assert actor_options(bundle, names) == {
        "num_cpus": 1.0,
        "num_gpus": 0.5,
        "memory": 2500000000,
        "resources": {"Big": 1.0},
    }
    assert ray_bundle({"cpu": 0.0, "gpu": 1.0}, names) == {"GPU": 1.0}


def test_a_directory_travels_as_bytes_and_replaces_what_was_there(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "weights").write_bytes(b"\x00\x01" * 1000)
    (source / "sub" / "state.json").write_text('{"step": 3}')
    target = tmp_path / "trial" / "checkpoint_000003"
    target.mkdir(parents=True)
    (target / "stale").write_text("from an earlier launch")
    assert transfer.unpack(transfer.pack(str(source)), str(target)) == str(target)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == ["sub", "sub/state.json", "weights"]
    assert (target / "weights").read_bytes() == b"\x00\x01" * 1000
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")], "a staging directory was left"
