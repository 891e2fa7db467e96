"""Executors for independent tasks (one per mass in a scan).

Every executor has ``map(fn, tasks) -> iterator of results in task order``.  Results
depend only on the tasks (each mass carries its own seed), so they are identical on every
executor.

``LocalExecutor``
    a process pool over the machine's cores (serial when ``workers == 1`` or one task).
``DaskExecutor``
    a ``dask.distributed`` client: an existing scheduler (``tcp://host:port``, e.g. one
    started by dask-jobqueue on SLURM) or a ``LocalCluster`` with ``n`` workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol, TypeVar

from dipolehnl.errors import InputError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: seconds to wait for an existing dask scheduler before giving up (InputError)
DASK_CONNECT_TIMEOUT_S = 5.0


def _dask_verbose() -> bool:
    return logging.getLogger("dipolehnl").isEnabledFor(logging.INFO)


def _quiet_dask_logging() -> None:
    """dask.distributed logs scheduler/worker events, task failures (with tracebacks) and
    shutdown noise on stderr: silence it unless dipolehnl itself logs at INFO
    (``dipolehnl -v``).  Errors reach the user through the task's exception instead."""
    if not _dask_verbose():
        for name in ("distributed", "dask", "tornado", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)


#: seconds between a pool worker's checks that the process that started it is still alive
PARENT_CHECK_INTERVAL_S = 0.5


def _exit_when_orphaned(parent_pid: int) -> None:
    """Stop this pool worker once its parent has gone (e.g. killed with SIGKILL): nobody can
    tell it to stop any more, and it would otherwise wait for work forever."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_INTERVAL_S)
    os._exit(1)


def _init_pool_worker(parent_pid: int) -> None:
    """Set up a pool worker: Ctrl-C ignored and an orphan check."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="dipolehnl-orphan-check", daemon=True).start()


def _preload(modules: tuple[str, ...]) -> None:
    """Import ``modules`` in a pool worker (:meth:`LocalExecutor.start`)."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool at once (Ctrl-C): cancel what has not started and kill the
    workers instead of waiting for the tasks they run (a mass takes up to tens of seconds)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass
    deadline = time.monotonic() + 1.0
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()


class Executor(Protocol):
    """What a scan needs of an executor (:class:`LocalExecutor`, :class:`DaskExecutor` or a user's):
    ``map(fn, tasks)`` yielding the results in task order. An executor that also has
    ``map_completed(fn, tasks)``, yielding ``(index, result)`` as tasks finish, lets a scan cache
    every mass as soon as it is done."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]: ...


class LocalExecutor:
    """Process pool over ``workers`` cores (default: all).

    The pool is started at the first ``map`` that needs it (or earlier by :meth:`start`) and
    kept for later ones, so a run of many scans (``reproduce``) pays the workers' start-up
    (imports, detector grids and flux tables they cache) once; :meth:`close` (or leaving a
    ``with`` block) stops it.  Ctrl-C or
    an error stops it at once; the next ``map`` starts a new one."""

    def __init__(self, workers: int | None = None) -> None:
        n = workers if workers is not None else (os.cpu_count() or 1)
        if n < 1:
            raise InputError(f"workers must be >= 1, got {n}")
        self.workers = int(n)
        self._pool: ProcessPoolExecutor | None = None
        self._warm: list = []  # the start() imports

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten pool must not outlive its executor
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def close(self) -> None:
        """Stop the worker processes (waits for none: no task is running between maps; workers
        still importing for :meth:`start` are stopped at once)."""
        pool, self._pool = getattr(self, "_pool", None), None
        warm, self._warm = getattr(self, "_warm", []), []
        if pool is not None:
            if any(not f.done() for f in warm):
                _stop_pool(pool)
            else:
                pool.shutdown(wait=True, cancel_futures=True)

    def start(self, preload: Sequence[str] = (), tasks: int | None = None) -> None:
        """Start the worker processes now instead of at the first ``map``, each importing the
        modules ``preload``: their start-up (~0.5 s of imports) then overlaps with the
        caller's own (e.g. reading and checking inputs).  ``tasks``: how many tasks will come
        (if known): no more processes than that are started.  Nothing to do for one worker."""
        n = self.workers if tasks is None else min(self.workers, int(tasks))
        if self.workers == 1 or n < 1 or self._pool is not None:
            return
        pool = self._get_pool()
        self._warm = [pool.submit(_preload, tuple(preload)) for _ in range(n)]

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": forking a process whose libraries (BLAS) may have started threads is unsafe
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_init_pool_worker, initargs=(os.getpid(),)
            )
        return self._pool

    def _abort(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            _stop_pool(pool)

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        tasks = list(tasks)
        log.info("running %d task(s) on %d local process(es)", len(tasks), max(1, min(self.workers, len(tasks))))
        if self.workers == 1 or len(tasks) <= 1:
            for t in tasks:
                yield fn(t)
            return
        pool = self._get_pool()
        try:
            yield from pool.map(fn, tasks)
        except BaseException:
            self._abort()
            raise

    def map_completed(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        """(task index, result) pairs in the order the tasks finish (results are the same as
        with :meth:`map`; only the order of arrival differs)."""
        tasks = list(tasks)
        log.info("running %d task(s) on %d local process(es)", len(tasks), max(1, min(self.workers, len(tasks))))
        if self.workers == 1 or len(tasks) <= 1:
            for i, t in enumerate(tasks):
                yield i, fn(t)
            return
        pool = self._get_pool()
        futures = {}
        try:
            futures = {pool.submit(fn, t): i for i, t in enumerate(tasks)}
            for f in as_completed(futures):
                yield futures[f], f.result()
        except BaseException:  # Ctrl-C, an error, or the consumer stopped: stop the workers now
            self._abort()
            raise


class DaskExecutor:
    """Run tasks on a dask.distributed cluster (``pip install 'dipolehnl[dask]'``).

    ``scheduler``: address ``tcp://host:port`` of a running scheduler (e.g. started by
    dask-jobqueue on SLURM); otherwise a ``LocalCluster`` with ``local_workers`` worker
    processes (one thread each) is started and closed with the executor.  An unreachable
    scheduler raises :class:`InputError` after ``connect_timeout`` seconds.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        local_workers: int | None = None,
        connect_timeout: float = DASK_CONNECT_TIMEOUT_S,
    ) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError("the dask executor needs dask.distributed: pip install 'dipolehnl[dask]'") from None
        _quiet_dask_logging()
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=f"{float(connect_timeout)}s")
            except (OSError, ValueError, TypeError) as exc:  # unreachable (OSError/TimeoutError) or malformed address
                msg = " ".join(str(exc).split()) or type(exc).__name__
                raise InputError(f"cannot connect to the dask scheduler at {scheduler!r}: {msg}") from None
        else:
            n = 2 if local_workers is None else int(local_workers)
            if n < 1:
                raise InputError(f"a local dask cluster needs >= 1 worker, got {n}")
            import warnings

            with warnings.catch_warnings():
                if not _dask_verbose():  # e.g. "Port 8787 is already in use"
                    warnings.simplefilter("ignore")
                self._cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.WARNING if _dask_verbose() else logging.CRITICAL + 1,
                )
            self.client = Client(self._cluster)
        scheduler_rpc = self.client.scheduler
        log.info("dask: using the scheduler at %s", scheduler_rpc.address if scheduler_rpc is not None else "?")

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        tasks = list(tasks)
        log.info("dask: submitting %d task(s)", len(tasks))
        futures = self.client.map(fn, tasks, pure=False)
        try:
            for f in futures:
                yield f.result()
        except BaseException:
            self._cancel(futures)
            raise

    def map_completed(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        """(task index, result) pairs in the order the tasks finish."""
        from dask.distributed import as_completed as dask_as_completed

        tasks = list(tasks)
        log.info("dask: submitting %d task(s)", len(tasks))
        futures = self.client.map(fn, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for f in dask_as_completed(futures):
                yield index[f.key], f.result()
        except BaseException:  # Ctrl-C or a task's error: cancel the rest at once
            self._cancel(futures)
            raise

    def _cancel(self, futures) -> None:
        try:
            self.client.cancel(futures, force=True)
        except Exception:  # noqa: BLE001 - client already closing
            pass
        self._interrupted = True

    def close(self) -> None:
        """Close the client (and the local cluster); quick after an interrupt, so that Ctrl-C
        returns within about two seconds."""
        fast = getattr(self, "_interrupted", False)
        try:
            self.client.close(timeout=1 if fast else None)
        except Exception:  # noqa: BLE001 - closing after an interrupt: nothing left to save
            if not fast:
                raise
        if self._cluster is not None:
            if fast:
                _kill_cluster_workers(self._cluster)
            try:
                self._cluster.close(timeout=1 if fast else None)
            except Exception:  # noqa: BLE001
                if not fast:
                    raise

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _kill_cluster_workers(cluster) -> None:
    """Terminate a LocalCluster's worker processes at once (each nanny's child process)."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(nanny, "process", None), "pid", None)
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


def make_executor(
    kind: str = "local", workers: int | None = None, dask_scheduler: str | None = None, dask_local: int | None = None
):
    """Executor from CLI-style options."""
    if dask_scheduler and dask_local:
        raise InputError("give either a dask scheduler address or a number of local dask workers, not both")
    if dask_scheduler or dask_local:
        return DaskExecutor(dask_scheduler, dask_local)
    if kind != "local":
        raise InputError(f"unknown executor {kind!r}")
    return LocalExecutor(workers)
