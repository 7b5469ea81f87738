"""Background jobs kept in the jobs table: enqueue, claim atomically, run with progress, recover after a crash."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, timedelta
from typing import Any

from gridgov.api.pool import StorePool
from gridgov.errors import GridgovError, LockedError, StoreUnavailableError, cause_for_log
from gridgov.plans.allocation import AllocationOptions, WardOutcome
from gridgov.plans.run import solve_plan
from gridgov.store import SqlStore, now_utc

log = logging.getLogger("gridgov.api.jobs")
_FAILING_SAY_EVERY_S = 600.0

INTERRUPTED = "服务重启中断，已重新排队（新任务 {new}） / interrupted by a restart; queued again as job {new}"
DB_LOST = "求解中数据库连接中断，未保存任何方案；已重新排队（新任务 {new}） / the database connection was lost " \
          "during the solve; nothing was saved; queued again as job {new}"
DB_LOST_FINAL = "求解中数据库连接多次中断，未保存任何方案，请稍后重新发起 / the database connection was lost " \
                "during the solve again; nothing was saved: start the solve again later"
WAITING = "等待中：{zh} / waiting: {en}"
SOLVER_DIED = "求解进程意外终止（{zh}），未保存任何方案，已发布的方案不受影响，请重新发起 / the solver process " \
              "ended unexpectedly ({en}); nothing was saved and the published plan is untouched: start the solve again"
MAX_ATTEMPTS = 3  # a solve that lost the database this many times fails for good


def enqueue_solve(
    store: SqlStore, *, actor: str, wards: list[str] | None = None, changed: bool = False,
    options: dict[str, Any] | None = None, reason: str = "", retry_of: int | None = None,
) -> int:
    """Queue a solve; a roster re-solve joins a queued one (it reads the stale wards when it starts)."""
    if wards:
        from gridgov.plans.run import check_wards

        check_wards(store.load("wards", columns=["code"])["code"], wards)  # 404 now, not a failed job later
    params: dict[str, Any] = {"wards": wards, "changed": changed, "options": options or {}, "reason": reason}
    if retry_of is not None:
        params["retry_of"] = retry_of
    elif not changed:
        # A solve of these wards running now (in any process): answer LockedError (409) at once
        # rather than queue a second solve of them. The lock taken by the solve itself is what
        # guarantees exclusion; this is only the early, friendly answer.
        codes = wards if wards else list(store.load("wards")["code"])
        with store.ward_locks(codes, owner=actor):
            pass
    with store.transaction():
        if changed and not wards:
            queued = store.load("jobs", where={"kind": "solve", "status": "queued"})
            for job_id, p in zip(queued["job_id"], queued["params"]):
                # Only a job that would solve the same way: a planner's own options (balance,
                # contiguity …) must not vanish into a roster re-solve queued with the defaults.
                if isinstance(p, dict) and p.get("changed") and not p.get("wards") and (p.get("options") or {}) == (options or {}):
                    return int(job_id)
        return store.insert("jobs", {
            "kind": "solve", "status": "queued", "params": params, "progress": {"done": 0, "total": 0},
            "created_by": actor, "created_at": now_utc(),
        })


def recover_stale(store: SqlStore, *, stale_after_s: float) -> list[int]:
    """Fail the running jobs whose process died (no heartbeat for ``stale_after_s``); queue each again."""
    cutoff = now_utc() - timedelta(seconds=stale_after_s)
    requeued: list[int] = []
    running = store.load("jobs", where={"status": "running"})
    for row in running.to_dict("records"):
        beat = row.get("heartbeat_at") or row.get("started_at")
        if beat is not None and beat >= cutoff:
            continue  # alive, maybe in another process
        with store.transaction():
            # Only the process whose UPDATE matches a still-running row re-queues it.
            params = dict(row.get("params") or {})
            new_id = None
            claimed = store.update("jobs", {"job_id": int(row["job_id"]), "status": "running"},
                                   {"status": "failed", "finished_at": now_utc()})
            if claimed:
                params.pop("retry_of", None)
                new_id = enqueue_solve(
                    store, actor=str(row.get("created_by") or "system"), wards=params.get("wards"),
                    changed=bool(params.get("changed")), options=params.get("options"),
                    reason=str(params.get("reason") or ""), retry_of=int(row["job_id"]),
                )
                store.update("jobs", {"job_id": int(row["job_id"])}, {"message": INTERRUPTED.format(new=new_id)})
        if new_id is not None:
            requeued.append(new_id)
            log.warning("job %s was left running by a dead process; queued again as %s", row["job_id"], new_id)
    return requeued


def claim_next(store: SqlStore, *, skip: set[int] | frozenset[int] = frozenset()) -> dict[str, Any] | None:
    """Take the oldest queued job not in ``skip``: an UPDATE … WHERE status='queued' that only
    one process wins."""
    queued = store.load("jobs", where={"status": "queued"}, order_by="job_id")
    for row in queued.to_dict("records"):
        if int(row["job_id"]) in skip:
            continue
        now = now_utc()
        with store.transaction():
            won = store.update("jobs", {"job_id": int(row["job_id"]), "status": "queued"},
                               {"status": "running", "started_at": now, "heartbeat_at": now})
        if won:
            return row
    return None


def options_of(raw: dict[str, Any] | None) -> AllocationOptions:
    """AllocationOptions from stored job parameters (unknown keys ignored, dates parsed)."""
    raw = dict(raw or {})
    fields = AllocationOptions.__dataclass_fields__
    kwargs = {k: v for k, v in raw.items() if k in fields}
    if isinstance(kwargs.get("on"), str):
        kwargs["on"] = date.fromisoformat(kwargs["on"])
    return AllocationOptions(**kwargs)


def requeue_lost(store: SqlStore, job_id: int) -> int | None:
    """Settle a job whose solve lost the database, once it is back: failed, and queued again.

    Returns the new job's id (None when the job was settled elsewhere or ran out of attempts).
    The solve saved nothing (its draft is one transaction), so the published plan is untouched.
    """
    rows = store.load("jobs", where={"job_id": int(job_id)})
    if rows.empty:
        return None
    row = rows.iloc[0].to_dict()
    params = dict(row.get("params") or {})
    attempt = int(params.get("attempt") or 1)
    with store.transaction():
        claimed = store.update("jobs", {"job_id": int(job_id), "status": "running"},
                               {"status": "failed", "finished_at": now_utc(), "message": DB_LOST_FINAL})
        if not claimed or attempt >= MAX_ATTEMPTS:
            return None
        new_id = enqueue_solve(
            store, actor=str(row.get("created_by") or "system"), wards=params.get("wards"),
            changed=bool(params.get("changed")), options=params.get("options"),
            reason=str(params.get("reason") or ""), retry_of=int(job_id),
        )
        new_params = store.load("jobs", where={"job_id": new_id}).iloc[0]["params"]
        store.update("jobs", {"job_id": new_id}, {"params": {**new_params, "attempt": attempt + 1}})
        store.update("jobs", {"job_id": int(job_id)}, {"message": DB_LOST.format(new=new_id)})
    log.warning("job %s lost the database; queued again as %s", job_id, new_id)
    return new_id


def _lowest_priority(parent: int) -> None:
    """In the solver process, before any solve: the web workers get the CPU whenever they want it,
    and the process ends with the web worker that started it (killed, crashed or stopped), so no
    orphaned solve keeps a core busy or holds the worker's pipes open."""
    try:
        os.nice(19)
    except OSError:  # not allowed here: still a separate process, at the inherited priority
        pass
    try:  # Linux: SIGKILL this process when its parent goes
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # everywhere, and for a parent gone before prctl ran: poll
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="gridgov-solver-parent-watch", daemon=True).start()


def _solve_in_child(fn: Callable[..., Any], *args: Any) -> tuple[int, int, Any]:
    return os.getpid(), os.nice(0), fn(*args)


class SolverProcess(Executor):
    """The CPU-bound ward solves of one job in a child process (spawned, niceness 19).

    Everything else of the job stays in the runner thread: the database reads, the ward locks,
    progress and heartbeat writes, the draft's save. The child touches no store, so a child that
    dies (OOM killer, SIGKILL) cannot leave anything half-written: ``BrokenProcessPool`` comes out
    of ``solve_plan``, whose ward locks are released as it unwinds, and the job fails.
    """

    def __init__(self, workers: int = 1) -> None:
        self._pool = ProcessPoolExecutor(max_workers=max(1, workers), initializer=_lowest_priority,
                                         initargs=(os.getpid(),), mp_context=multiprocessing.get_context("spawn"))
        self._procs: dict[int, Any] = {}
        self.pid: int | None = None  # the child that solved the latest ward, and its niceness
        self.nice: int | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            raise TypeError("SolverProcess.submit takes positional arguments only")
        outer: Future = Future()
        inner = self._pool.submit(_solve_in_child, fn, *args)
        self._procs.update(getattr(self._pool, "_processes", None) or {})

        def relay(f: Future) -> None:
            if f.cancelled():
                outer.cancel()
            elif f.exception() is not None:
                outer.set_exception(f.exception())
            else:
                self.pid, self.nice, result = f.result()
                outer.set_result(result)

        inner.add_done_callback(relay)
        return outer

    def exit_codes(self) -> list[int]:
        return [p.exitcode for p in self._procs.values() if p.exitcode not in (None, 0)]

    def kill(self) -> None:
        """Stop the child at once (the job was abandoned: no solve may outlive it)."""
        self._procs.update(getattr(self._pool, "_processes", None) or {})
        for proc in self._procs.values():
            if proc.is_alive():
                proc.kill()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _died(solver: SolverProcess) -> str:
    codes = solver.exit_codes()
    if codes and codes[0] < 0:
        return SOLVER_DIED.format(zh=f"被信号 {-codes[0]} 终止", en=f"killed by signal {-codes[0]}")
    if codes:
        return SOLVER_DIED.format(zh=f"退出码 {codes[0]}", en=f"exit code {codes[0]}")
    return SOLVER_DIED.format(zh="进程已退出", en="the process exited")


def run_job(store: SqlStore, job: dict[str, Any], *, solve_threads: int = 1) -> str:
    """Run one claimed solve job; returns its status: done, failed, or queued (its wards were busy).

    solve_plan writes only a draft, never the published plan. When the database goes away the
    error propagates (the job cannot be written); the runner settles it with ``requeue_lost``.
    The wards are solved in a child process at the lowest CPU priority (``SolverProcess``),
    ``solve_threads`` of them at once (the service's ``api_solve_threads``).
    """
    job_id = int(job["job_id"])
    params = job.get("params") or {}
    solver = SolverProcess(solve_threads)

    def progress(outcome: WardOutcome, done: int, total: int) -> None:
        store.update("jobs", {"job_id": job_id}, {
            "progress": {"done": done, "total": total, "ward": outcome.ward_code, "status": outcome.status,
                         "solver_pid": solver.pid, "solver_nice": solver.nice},
            "heartbeat_at": now_utc(),
        })

    finished = False
    try:
        outcome = solve_plan(
            store, options=options_of(params.get("options")), wards=params.get("wards") or None,
            changed=bool(params.get("changed")), progress=progress, actor=str(job.get("created_by") or "api"),
            executor=solver,
        )
        finished = True
    except StoreUnavailableError:
        raise  # the database is gone: the runner settles the job once it is back
    except BrokenProcessPool:
        solver.kill()
        solver.shutdown(wait=True, cancel_futures=True)
        message = _died(solver)
        log.warning("job %s: %s", job_id, message.split(" / ", 1)[1])
        _finish(store, job_id, "failed", message)
        return "failed"
    except LockedError as exc:
        # Another process solves these wards now: queue this job again; it runs after that one.
        store.update("jobs", {"job_id": job_id, "status": "running"},
                     {"status": "queued", "message": WAITING.format(zh=exc.message, en=exc.message_en)})
        return "queued"
    except GridgovError as exc:
        _finish(store, job_id, "failed", f"{exc.message} / {exc.message_en}")
        return "failed"
    except Exception as exc:  # a bug must not kill the worker thread; the class names it, no data
        log.exception("job %s failed", job_id)
        _finish(store, job_id, "failed", f"内部错误，请联系管理员 / internal error ({type(exc).__name__})")
        return "failed"
    finally:
        if not finished:
            solver.kill()  # an abandoned job's remaining wards must not keep a core busy
        solver.shutdown(wait=True, cancel_futures=True)
    if outcome.confirmed is not None:
        _finish(store, job_id, "done", f"结果与已发布方案 {outcome.confirmed} 相同，无需调整，未另存草稿 / "
                f"the result is published plan {outcome.confirmed} unchanged: no draft stored",
                total=len(outcome.scope))
    elif outcome.plan_id is None:
        _finish(store, job_id, "done", "没有需要重新求解的街道 / nothing needed re-solving")
    else:
        _finish(store, job_id, "done", f"已生成草稿方案 {outcome.plan_id} / draft plan {outcome.plan_id} stored",
                plan_id=outcome.plan_id, total=len(outcome.scope), summary=outcome.summary,
                solver={"solver_pid": solver.pid, "solver_nice": solver.nice, "solver_threads": solve_threads})
    return "done"


def _finish(store: SqlStore, job_id: int, status: str, message: str, *, plan_id: int | None = None,
            total: int | None = None, summary: dict[str, Any] | None = None,
            solver: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"status": status, "message": message, "finished_at": now_utc(),
                              "heartbeat_at": now_utc(), "plan_id": plan_id}
    if total is not None:
        values["progress"] = {"done": total, "total": total, "summary": summary, **(solver or {})}
    store.update("jobs", {"job_id": job_id}, values)


class JobRunner:
    """One thread per process that recovers stale jobs and runs queued ones, oldest first."""

    def __init__(self, pool: StorePool, *, poll_s: float, stale_s: float, solve_threads: int = 1) -> None:
        self.pool = pool
        self.solve_threads = solve_threads
        self.poll_s = poll_s
        self.stale_s = stale_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lost: list[int] = []  # jobs whose solve lost the database: settled when it is back
        self._thread = threading.Thread(target=self._loop, name="gridgov-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, *, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def run_once(self) -> bool:
        """Recover, then run queued jobs oldest first until one ends; True when one ended.

        A job whose wards another process is solving goes back to the queue and the next one
        is tried, so it does not hold up jobs of other wards; it is tried again next time.
        """
        with self.pool.store() as store:
            while self._lost:  # the database is back: settle what it interrupted, now
                requeue_lost(store, self._lost[0])
                self._lost.pop(0)
            recover_stale(store, stale_after_s=self.stale_s)
            waiting: set[int] = set()
            while True:
                job = claim_next(store, skip=waiting)
                if job is None:
                    return False
                if self._run(store, job) != "queued":
                    return True
                waiting.add(int(job["job_id"]))

    def _run(self, store: SqlStore, job: dict[str, Any]) -> str:
        """One claimed job with its heartbeat; its final status ("queued" when its wards are busy)."""
        log.info("job %s started", job["job_id"])
        stop_beat = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(int(job["job_id"]), stop_beat), daemon=True)
        beat.start()
        try:
            status = run_job(store, job, solve_threads=self.solve_threads)
        except StoreUnavailableError:
            self._lost.append(int(job["job_id"]))
            raise
        finally:
            stop_beat.set()
            beat.join()
        log.info("job %s %s", job["job_id"], status)
        return status

    def _heartbeat(self, job_id: int, stop: threading.Event) -> None:
        """Keep the heartbeat fresh while one ward solves for a long time (its own store: no sharing)."""
        interval = max(1.0, self.stale_s / 4)
        while not stop.wait(interval):
            try:
                with self.pool.store() as store:
                    store.update("jobs", {"job_id": job_id, "status": "running"}, {"heartbeat_at": now_utc()})
            except GridgovError:
                log.warning("heartbeat of job %s not written", job_id)

    def _loop(self) -> None:
        failing_since: float | None = None
        said_at = 0.0
        while not self._stop.is_set():
            try:
                ran = self.run_once()
                if failing_since is not None:
                    log.warning("job runner: the store answers again after %.0f s", time.monotonic() - failing_since)
                    failing_since = None
            except GridgovError as exc:  # database away: wait and try again, it recovers by itself
                now = time.monotonic()
                # Once when it starts, then every ten minutes: one line a poll was 86,000 a day.
                if failing_since is None or now - said_at >= _FAILING_SAY_EVERY_S:
                    log.warning("job runner: %s: %s%s", type(exc).__name__, cause_for_log(exc),
                                "" if failing_since is None else f" (failing for {now - failing_since:.0f} s)")
                    said_at = now
                failing_since = failing_since if failing_since is not None else now
                ran = False
            except Exception:
                log.exception("job runner error")
                ran = False
            if not ran:
                self._wake.wait(self.poll_s)
                self._wake.clear()
