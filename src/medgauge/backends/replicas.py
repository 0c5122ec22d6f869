"""Data parallelism with Ray: ``--model-opt replicas=N`` runs N copies of a local model.

Any backend spec with the option ``replicas`` (or its alias ``data_parallel``) becomes a
``ReplicatedBackend``: N Ray actors, each building the same backend (``hf:PATH`` or
``vllm:PATH``) with the remaining options and answering with its own batching (concurrent calls
reaching an actor are batched there as in one process).  Each request goes to the live replica
with the fewest requests in flight; when a replica dies (its process killed, its node lost), its
requests are sent again to another replica, so a lost actor costs time, never answers.  A
failed request inside a live replica stays a failed request (no retry: it is an answer of that
model).  The model identity is the inner backend's: replicas change speed, not answers.

Options (besides the inner backend's):
  replicas             number of actors (alias data_parallel; >= 1)
  ray_address          local (default: start a Ray instance on this machine, or use the one this
                       process already joined) | auto (join the cluster of this machine) |
                       ray://HOST:PORT (Ray Client)
  replica_gpus         GPUs per actor (default: 1, or a vLLM model's tensor_parallel_size, when
                       the cluster has that many per replica, else 0); Ray sets each actor's
                       CUDA_VISIBLE_DEVICES, so device=auto picks its own GPU
  replica_cpus         CPUs per actor (default 1)

Image paths in requests are read by the actors: on a multi-node cluster they must be visible at
the same path on every node.  Ray is an optional extra (``pip install medgauge[ray]``), imported
when the backend starts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from medgauge.backends.base import Backend, option_help_from_doc
from medgauge.types import MedgaugeError, Request, Response

REPLICA_OPTIONS = ("replicas", "data_parallel", "ray_address", "replica_gpus", "replica_cpus")
_HELP = option_help_from_doc(__doc__)


def wants_replicas(options: dict[str, Any] | None) -> bool:
    return bool(options) and any(k in options for k in ("replicas", "data_parallel"))


def _require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MedgaugeError("replicas=N needs Ray: install medgauge[ray]") from None
    return ray


class _Replica:
    """The actor body: one inner backend in its own process (an async actor, so concurrent
    ``generate`` calls reach the backend's batcher together)."""

    def __init__(self, spec: str, options: dict[str, Any]) -> None:
        from medgauge.backends.base import create_backend

        self.backend = create_backend(spec, options)

    async def start(self) -> bool:
        await self.backend.start()
        return True

    async def generate(self, request: Request) -> Response:
        return await self.backend.generate(request)

    async def close(self) -> bool:
        await self.backend.close()
        return True


class ReplicatedBackend(Backend):
    """N Ray actors serving one backend spec, least-loaded dispatch, retry on a dead actor."""

    option_help = _HELP

    def __init__(self, spec: str, options: dict[str, Any]) -> None:
        from medgauge.backends.base import create_backend

        opts = dict(options)
        self.spec = spec
        alias = opts.pop("data_parallel", None)
        replicas = opts.pop("replicas", alias)
        self.address = str(opts.pop("ray_address", "local"))
        gpus = opts.pop("replica_gpus", None)
        cpus = opts.pop("replica_cpus", 1)
        # validated and described by a local instance of the inner backend (which loads nothing
        # before ``start``); the actors build their own
        self.inner = create_backend(spec, opts)
        self.inner_options = opts
        self.kind = self.inner.kind  # type: ignore[misc]
        self.supports_images = self.inner.supports_images  # type: ignore[misc]
        self.supports_continuations = self.inner.supports_continuations  # type: ignore[misc]
        super().__init__(self.inner.model, {"replicas": replicas, "replica_gpus": gpus,
                                            "replica_cpus": cpus})
        self.replicas = int(self.take("replicas", int, 1, minimum=1))
        self.gpus = self.take("replica_gpus", float, None, minimum=0)
        self.cpus = float(self.take("replica_cpus", float, 1, minimum=0))
        self.concurrency = self.inner.concurrency * self.replicas
        self.stop_after_failures = self.inner.stop_after_failures
        if not (self.address in ("local", "auto") or self.address.startswith("ray://")):
            raise MedgaugeError(f"backend {self.kind}: ray_address must be local, auto or "
                                f"ray://HOST:PORT, got {self.address!r}")
        self._actors: list[Any] = []
        self._load: list[int] = []
        self._alive: list[bool] = []
        self._started_ray = False
        #: requests sent again after their replica died (for tests and logs)
        self.retried = 0

    def identity(self) -> str:
        return self.inner.identity()

    def answer_options(self) -> dict[str, Any]:
        return self.inner.answer_options()

    def display_name(self) -> str:
        return self.inner.display_name()

    def key_extra(self, request: Request) -> str | None:
        return self.inner.key_extra(request)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        ray = _require_ray()
        if not ray.is_initialized():
            address = None if self.address == "local" else self.address
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         ignore_reinit_error=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise MedgaugeError(f"replicas: cannot join Ray at {self.address}: "
                                    f"{' '.join(str(exc).split())}") from None
            self._started_ray = True
        gpus = self.gpus
        if gpus is None:  # one GPU per replica (a tensor-parallel vLLM model: its TP size)
            need = float(getattr(self.inner, "engine_args", {}).get("tensor_parallel_size", 1))
            have = ray.cluster_resources().get("GPU", 0)
            gpus = need if have >= need * self.replicas else 0.0
        actor = ray.remote(_Replica).options(num_cpus=self.cpus, num_gpus=gpus)
        self._actors = [actor.remote(self.spec, self.inner_options)
                        for _ in range(self.replicas)]
        self._load = [0] * self.replicas
        self._alive = [True] * self.replicas
        results = await asyncio.gather(*(a.start.remote() for a in self._actors),
                                       return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise self._as_error(r)

    async def close(self) -> None:
        if not self._actors:
            return
        ray = _require_ray()
        live = [a for a, ok in zip(self._actors, self._alive, strict=True) if ok]
        await asyncio.gather(*(a.close.remote() for a in live), return_exceptions=True)
        for a in self._actors:
            ray.kill(a)
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    # ------------------------------------------------------------------ requests
    def _as_error(self, exc: BaseException) -> BaseException:
        """A MedgaugeError raised in an actor as itself; anything else as one line."""
        cause = getattr(exc, "cause", None)
        if isinstance(cause, MedgaugeError):
            return MedgaugeError(str(cause))
        text = " ".join(str(cause or exc).split()).splitlines()[0] if str(cause or exc) else ""
        return MedgaugeError(f"replicas: a replica failed to start: "
                             f"{type(cause or exc).__name__}: {text[:300]}")

    def _pick(self) -> int | None:
        live = [i for i, ok in enumerate(self._alive) if ok]
        if not live:
            return None
        return min(live, key=lambda i: self._load[i])

    async def generate(self, request: Request) -> Response:
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

        if not self._actors:
            raise MedgaugeError("replicas: backend used before start()")
        while True:
            i = self._pick()
            if i is None:
                return Response(error=f"replicas: all {self.replicas} replicas died")
            self._load[i] += 1
            try:
                return await self._actors[i].generate.remote(request)
            except (RayActorError, ActorDiedError, ActorUnavailableError):
                self._alive[i] = False  # its process is gone: send the request elsewhere
                self.retried += 1
            except Exception as exc:  # raised inside a live replica
                cause = getattr(exc, "cause", None)
                if isinstance(cause, MedgaugeError):
                    raise MedgaugeError(str(cause)) from None
                return Response(error=f"replicas: {type(cause or exc).__name__}: "
                                f"{' '.join(str(cause or exc).split())[:300]}")
            finally:
                self._load[i] -= 1
