"""One way to ask a model: through the store's request cache.

The model under test (solvers) and a grader (scorers) are both asked through a
:class:`ModelCaller`: the request is canonicalised and hashed (``request_key.py``), a stored
successful response is returned without a call, otherwise the backend is asked and its answer
(errors included) is committed at once.  So every call is cached, retried by the next rerun when
it failed, and counted the same way, whatever role the model plays.  Identical requests in
flight at the same time (concurrent tasks of one backend) are sent once.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from medgauge.runner.request_key import request_hash, request_record
from medgauge.types import MedgaugeError, Request, Response

if TYPE_CHECKING:
    from medgauge.backends.base import Backend
    from medgauge.store import Store


class ModelCaller:
    """A backend in one role (``model`` or ``grader``) with the store as its cache."""

    def __init__(self, backend: Backend, store: Store, role: str = "model") -> None:
        self.backend = backend
        self.store = store
        self.role = role
        self.identity = backend.identity()
        self.sent = 0  # requests actually sent to the backend (not served from the store)
        self.failed = 0

    async def generate(self, request: Request) -> tuple[str, Response]:
        """Serve from the store, or ask the backend and store the answer (errors included).
        A request scoring continuations (likelihood modes) for a backend that cannot is a
        one-line ``MedgaugeError`` before anything is sent (``Backend.supports_continuations``)."""
        if request.continuations and not self.backend.supports_continuations:
            raise MedgaugeError(f"backend {self.backend.kind} cannot score continuations "
                                "(likelihood modes need an hf: model)")
        record = request_record(self.identity, request, self.backend.key_extra(request))
        key = request_hash(record)
        cached = await self.store.cached_response(key)
        if cached is not None:
            return key, cached
        inflight = self.store.inflight
        pending = inflight.get(key)
        if pending is not None:  # the same request is being sent by a concurrent task
            return key, await asyncio.shield(pending)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        inflight[key] = future
        try:
            self.sent += 1
            response = await self.backend.generate(request)
            if response.error is not None:
                self.failed += 1
            await self.store.save_response(key, self.identity, record, response)
            future.set_result(response)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            inflight.pop(key, None)
        return key, response
