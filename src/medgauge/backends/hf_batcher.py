"""Collect concurrent async calls into batches that one worker thread runs.

The runner calls ``Backend.generate`` many times at once; a local model is fastest when those
calls are answered by one batched forward pass.  ``Batcher.submit`` queues a job and awaits its
result.  One dispatcher task per event loop takes the oldest waiting job, gathers up to
``batch_size`` jobs with the same key (waiting at most ``wait_s`` for more while the worker is
idle), and runs ``run_batch`` on them in a single-thread executor.  Jobs with different keys are
never mixed in one batch; they wait in FIFO order for their own turn.

No torch here: the batcher is plain asyncio and can be tested on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")

#: ``run_batch`` returns one entry per payload: a result, or an exception for that payload only.
RunBatch = Callable[[list[P]], list[Any]]


@dataclass(eq=False)
class _Job(Generic[P]):
    payload: P
    key: Hashable
    future: asyncio.Future[Any] = field(repr=False)


class Batcher(Generic[P, R]):
    def __init__(
        self,
        run_batch: Callable[[list[P]], list[R | BaseException]],
        executor: Executor,
        *,
        batch_size: int,
        wait_s: float = 0.02,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self._run_batch = run_batch
        self._executor = executor
        self.batch_size = batch_size
        self.wait_s = wait_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job[P]] | None = None
        self._task: asyncio.Task[None] | None = None
        #: sizes of the batches run so far (for tests and throughput reports)
        self.batch_sizes: list[int] = []

    async def submit(self, payload: P, key: Hashable) -> R:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            # first call, or a new event loop (e.g. a second asyncio.run): start afresh there
            self._loop = loop
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._dispatch())
        assert self._queue is not None
        future: asyncio.Future[R] = loop.create_future()
        await self._queue.put(_Job(payload, key, future))
        return await future

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except RuntimeError:  # task bound to another (finished) loop
                pass

    def _drain(self, pending: list[_Job[P]]) -> None:
        assert self._queue is not None
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    async def _gather(self, pending: list[_Job[P]]) -> list[_Job[P]]:
        """Wait (briefly) until the oldest job's key has a full batch; take that batch."""
        assert self._queue is not None and self._loop is not None
        key = pending[0].key
        deadline = self._loop.time() + self.wait_s
        while sum(1 for j in pending if j.key == key) < self.batch_size:
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                break
            try:
                job = await asyncio.wait_for(self._queue.get(), remaining)
            except asyncio.TimeoutError:
                break
            pending.append(job)
            self._drain(pending)
        batch = [j for j in pending if j.key == key][: self.batch_size]
        chosen = {id(j) for j in batch}
        pending[:] = [j for j in pending if id(j) not in chosen]
        return [j for j in batch if not j.future.done()]  # skip callers that gave up

    async def _dispatch(self) -> None:
        assert self._queue is not None and self._loop is not None
        pending: list[_Job[P]] = []
        while True:
            if not pending:
                pending.append(await self._queue.get())
            self._drain(pending)
            batch = await self._gather(pending)
            if not batch:
                continue
            payloads = [j.payload for j in batch]
            try:
                results = await self._loop.run_in_executor(
                    self._executor, self._run_batch, payloads
                )
            except asyncio.CancelledError:
                for j in batch:
                    if not j.future.done():
                        j.future.cancel()
                raise
            except Exception as exc:  # the whole batch failed: every caller sees it
                results = [exc] * len(batch)
            if len(results) != len(batch):
                results = [RuntimeError(f"run_batch returned {len(results)} results for "
                                        f"{len(batch)} jobs")] * len(batch)
            self.batch_sizes.append(len(batch))
            for job, result in zip(batch, results, strict=True):
                if job.future.done():
                    continue
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)
