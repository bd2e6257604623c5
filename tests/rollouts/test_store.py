"""The rollout store on SQLite and PostgreSQL: versions, history, conflicts, stamps."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from cairn.core.errors import ConfigError
from cairn.rollouts.store import InvalidRolloutError, rollouts
from cairn.serving.routing import Arm, ConflictError, RolloutSpec, RolloutStore


@pytest.fixture
def store(metadata_url: str, project_name: str) -> RolloutStore:
    return RolloutStore(metadata_url, project=project_name)


def test_put_versions_and_current(store: RolloutStore) -> None:
    assert store.current("credit") is None
    assert store.all_current() == {}
    first = store.put(RolloutSpec.blue_green("credit", "m/1", "m/2"), actor="ana", reason="new")
    assert first.version == 1 and first.since > 0
    switched = store.put(first.with_changes(live="green"), actor="ana", reason="switch")
    assert switched.version == 2
    assert store.current("credit") == switched
    other = store.put(RolloutSpec.single("fraud", "f@champion"), actor="bo", reason="new")
    assert store.all_current() == {"credit": switched, "fraud": other}


def test_history_is_append_only_oldest_first(store: RolloutStore) -> None:
    spec = store.put(RolloutSpec.blue_green("credit", "m/1", "m/2"), actor="ana", reason="a")
    store.put(spec.with_changes(live="green"), actor="bo", reason="b")
    store.put(spec.with_changes(live="blue"), actor="cy", reason="c")
    history = store.history("credit")
    assert [(c.version, c.actor, c.reason, c.spec.live) for c in history] == [
        (1, "ana", "a", "blue"),
        (2, "bo", "b", "green"),
        (3, "cy", "c", "blue"),
    ]
    assert all(c.at.tzinfo is not None for c in history)
    assert history[0].at <= history[-1].at


def test_stale_expected_version_conflicts(store: RolloutStore) -> None:
    spec = store.put(RolloutSpec.canary("credit", "m/1", "m/2", seed="s"), actor="a", reason="r")
    controller_view = store.current("credit")
    assert controller_view is not None
    store.put(
        spec.with_changes(state="rolled_back"), actor="ops", reason="stop", expected_version=1
    )
    with pytest.raises(ConflictError, match="is at version 2, not 1"):
        store.put(
            controller_view.with_changes(stage=1),
            actor="controller",
            reason="gate passed",
            expected_version=controller_view.version,
        )
    current = store.current("credit")
    assert current is not None and current.state == "rolled_back"


def test_first_put_expects_version_zero(store: RolloutStore) -> None:
    spec = RolloutSpec.single("credit", "m@champion")
    store.put(spec, actor="a", reason="r", expected_version=0)
    with pytest.raises(ConflictError):
        store.put(spec, actor="a", reason="r", expected_version=0)


def test_stamp_moves_with_every_change(store: RolloutStore) -> None:
    stamps = [store.stamp()]
    spec = store.put(RolloutSpec.single("credit", "m@champion"), actor="a", reason="r")
    stamps.append(store.stamp())
    store.put(spec, actor="a", reason="same spec, still a change")
    stamps.append(store.stamp())
    store.put(RolloutSpec.single("fraud", "f@champion"), actor="a", reason="r")
    stamps.append(store.stamp())
    assert stamps == sorted(set(stamps))


def test_projects_are_isolated(metadata_url: str, project_name: str) -> None:
    engine = sa.create_engine(metadata_url)
    mine = RolloutStore(engine, project=project_name)
    theirs = RolloutStore(engine, project=project_name + "_other")
    mine.put(RolloutSpec.single("credit", "m@champion"), actor="a", reason="r")
    assert theirs.current("credit") is None and theirs.stamp() == 0


def test_concurrent_writers_never_share_a_version(store: RolloutStore) -> None:
    base = store.put(RolloutSpec.single("credit", "m/1"), actor="a", reason="r")
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(5):
                store.put(
                    base.with_changes(arms=(Arm("main", f"m/{i * 10 + j + 2}"),)),
                    actor=f"w{i}",
                    reason="r",
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [c.version for c in store.history("credit")] == list(range(1, 22))


def test_concurrent_expected_version_writers_one_wins(store: RolloutStore) -> None:
    base = store.put(RolloutSpec.blue_green("credit", "m/1", "m/2"), actor="a", reason="r")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def write() -> None:
        barrier.wait()
        try:
            store.put(base.with_changes(live="green"), actor="x", reason="r", expected_version=1)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]
    assert len(store.history("credit")) == 2


def test_actor_is_required(store: RolloutStore) -> None:
    with pytest.raises(ConfigError, match="needs an actor"):
        store.put(RolloutSpec.single("credit", "m/1"), actor=" ", reason="r")


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SQLAlchemy URL"):
        RolloutStore("not a url")


def test_histories_reads_many_deployments_in_one_query_as_history_reads_each(
    store: RolloutStore,
) -> None:
    """Two histories, none, and one whose second version no longer validates: each equals
    what :meth:`history` gives (or raises) for it alone, from one query."""
    ab = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)], seed="t1")
    first = store.put(ab, actor="ana", reason="a")
    store.put(first.with_changes(state="held"), actor="bo", reason="b")
    store.put(RolloutSpec.single("fraud", "f@champion"), actor="ana", reason="c")
    store.put(RolloutSpec.single("churn", "c@champion"), actor="ana", reason="d")
    body = RolloutSpec.single("churn", "c/2").to_dict()
    body.pop("version")
    body["strategy"] = "rainbow"  # written by a release that knew other strategies
    with store.engine.begin() as conn:
        conn.execute(
            rollouts.insert().values(
                project=store.project, deployment="churn", version=2, spec=json.dumps(body),
                actor="old-release", reason="", at=sa.func.current_timestamp(),
            )
        )  # fmt: skip
    reads: list[str] = []

    def count(*args: object) -> None:
        reads.append(str(args[2]))

    sa.event.listen(store.engine, "before_cursor_execute", count)
    read = store.histories(["credit", "fraud", "idle", "churn", "credit"])
    sa.event.remove(store.engine, "before_cursor_execute", count)
    assert len(reads) == 1
    for name in ("credit", "fraud", "idle"):
        assert list(read.of(name)) == [c.spec for c in store.history(name)]
    assert [s.state for s in read.of("credit")] == ["active", "held"]
    with pytest.raises(InvalidRolloutError) as alone:
        store.history("churn")
    with pytest.raises(InvalidRolloutError) as together:
        read.of("churn")
    assert str(together.value) == str(alone.value) and "(version 2)" in str(alone.value)
    for name, seed in (("credit", "t1"), ("churn", None), ("idle", None)):
        assert read.experiment_weights(name, seed) == store.experiment_weights(name, seed)
    assert store.histories([]).specs == {}
