"""Ward locks: two solves of one ward never run at once, across threads, processes and both backends."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from gridgov.errors import LockedError
from gridgov.plans.run import solve_plan
from gridgov.store import SqlStore, now_utc, open_store

sys.path.append(str(Path(__file__).resolve().parents[1] / "api"))
from api_city import W1, W2, W3, seed_city  # noqa: E402

HOLDER = """
import sys
from gridgov.store import open_store
store = open_store(sys.argv[1])
with store.ward_locks(sys.argv[2:], owner="child"):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


@pytest.fixture
def city(store_url: str) -> str:
    with open_store(store_url, create=True) as store:
        seed_city(store)
    return store_url


class Holder:
    """Another process holding ward locks until told to let go (or killed)."""

    def __init__(self, url: str, *wards: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, *wards],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        assert ready and self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "released"
        assert self.proc.wait(timeout=30) == 0

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


def test_second_solve_of_a_ward_is_refused_while_other_wards_solve_in_parallel(city):
    first, second = open_store(city), open_store(city)
    inside, release = threading.Event(), threading.Event()
    result: dict[str, object] = {}

    def hold(*_args: object) -> None:  # the first solve's progress: stay inside the solve
        inside.set()
        assert release.wait(30)

    def run_first() -> None:
        try:
            result["first"] = solve_plan(first, wards=[W1], progress=hold, actor="first").plan_id
        except BaseException as exc:  # reported by the main thread
            result["first"] = exc

    thread = threading.Thread(target=run_first)
    thread.start()
    try:
        assert inside.wait(30)
        with pytest.raises(LockedError) as err:
            solve_plan(second, wards=[W1, W2], actor="second")
        assert err.value.ward == W1
        assert "另一个求解" in err.value.message and "another solve" in err.value.message_en
        # A different ward is free: it solves while the first solve is still inside.
        assert solve_plan(second, wards=[W2], actor="second").plan_id is not None
        assert not release.is_set() and thread.is_alive()
    finally:
        release.set()
        thread.join(60)
    assert isinstance(result["first"], int)
    assert solve_plan(second, wards=[W1], actor="second").plan_id is not None  # free again
    first.close()
    second.close()


def test_a_waiting_solve_runs_once_the_first_has_finished(city):
    first, second = open_store(city), open_store(city)
    order: list[str] = []
    with first.ward_locks([W1], owner="first"):
        thread = threading.Thread(target=lambda: order.append(
            f"second:{solve_plan(second, wards=[W1], actor='second', lock_wait=60).plan_id}"))
        thread.start()
        order.append("first done")
    thread.join(90)
    assert order[0] == "first done" and order[1].startswith("second:")
    first.close()
    second.close()


def test_locks_hold_across_processes_and_die_with_a_killed_holder(city):
    store = open_store(city)
    holder = Holder(city, W1)
    try:
        with pytest.raises(LockedError):
            with store.ward_locks([W1], owner="me"):
                pass
        with store.ward_locks([W2, W3], owner="me"):  # other wards are free
            pass
        holder.release()
        with store.ward_locks([W1], owner="me"):
            pass
    finally:
        holder.close()
    killed = Holder(city, W1, W2)
    try:
        killed.kill()  # SIGKILL: no chance to release; the session ends / the pid is gone
        with store.ward_locks([W1, W2], owner="me", wait=10):
            pass
    finally:
        killed.close()
    store.close()


def test_all_or_none_nested_holds_and_sorted_order(city):
    a, b = open_store(city), open_store(city)
    with a.ward_locks([W2], owner="a"):
        with pytest.raises(LockedError) as err:
            with b.ward_locks([W3, W1, W2], owner="b"):
                pass
        assert err.value.ward == W2
        with b.ward_locks([W1], owner="b"):  # b took none of them: W1 is free
            with b.ward_locks([W1, W3], owner="b"):  # nesting on one store is allowed
                pass
            with pytest.raises(LockedError):
                with a.ward_locks([W1], owner="a"):
                    pass
        with a.ward_locks([W1], owner="a"):  # released after the outer hold ended
            pass
    a.close()
    b.close()


def test_ward_locks_refuse_to_start_inside_a_transaction(store: SqlStore):
    with store.transaction():
        with pytest.raises(RuntimeError):
            with store.ward_locks([W1], owner="x"):
                pass


def test_geopackage_lock_rows_are_taken_over_when_stale(tmp_path):
    store = open_store(str(tmp_path / "s.gpkg"), create=True)
    old = now_utc() - timedelta(seconds=store.LOCK_STALE_S + 60)
    store.save("locks", [
        # another host, heartbeat long ago: a crashed machine
        {"resource": f"ward:{W1}", "owner": "gone", "token": "t1", "host": "elsewhere", "pid": 1,
         "acquired_at": old, "heartbeat_at": old},
        # another host, fresh heartbeat: alive
        {"resource": f"ward:{W2}", "owner": "busy", "token": "t2", "host": "elsewhere", "pid": 1,
         "acquired_at": now_utc(), "heartbeat_at": now_utc()},
    ])
    with store.ward_locks([W1], owner="me"):
        row = store.load("locks", where={"resource": f"ward:{W1}"}).iloc[0]
        assert row["owner"] == "me" and row["pid"] == os.getpid()
    assert store.count("locks", where={"resource": f"ward:{W1}"}) == 0  # released
    with pytest.raises(LockedError) as err:
        with store.ward_locks([W2], owner="me"):
            pass
    assert err.value.holder == "busy" and "busy" in err.value.message
    store.close()
