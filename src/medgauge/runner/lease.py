"""A per-run lease, so two processes never run the same run (or the same shard of it) at once:
doubled traffic, and a later failure racing an earlier success.

The store keeps one row per (run, shard) naming the process holding it (``pid@host:token``) and
until when.  The holder renews it every ``RENEW_S`` seconds; a lease not renewed for ``TTL_S``
seconds (its process died, its machine lost the network) is taken over, and so, at once, is a
lease whose holder is a process of this machine that no longer exists (``kill -9``).  Another
process refuses with one line naming the holder, or waits (``--wait``).  Expiry compares the
clocks of the machines involved: keep them synchronised (NTP) when the store is shared.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass

from medgauge.store.base import BaseStore
from medgauge.types import MedgaugeError

TTL_S = 60.0
RENEW_S = 15.0
POLL_S = 1.0

_HOST = socket.gethostname()


def owner_id() -> str:
    """This process: ``pid@host:token`` (the token tells apart a reused pid)."""
    global _OWNER
    if _OWNER is None or not _OWNER.startswith(f"{os.getpid()}@"):  # after a fork: a new one
        _OWNER = f"{os.getpid()}@{_HOST}:{secrets.token_hex(4)}"
    return _OWNER


_OWNER: str | None = None


def describe(owner: str) -> str:
    pid, _, rest = owner.partition("@")
    return f"pid {pid} on {rest.rsplit(':', 1)[0]}"


def is_dead(owner: str) -> bool:
    """True when ``owner`` is a process of this machine that no longer runs."""
    pid, _, rest = owner.partition("@")
    if rest.rsplit(":", 1)[0] != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@dataclass
class Lease:
    store: BaseStore
    run_id: str
    shard: str
    owner: str

    async def keep(self) -> None:
        """Renew until cancelled."""
        while True:
            await asyncio.sleep(RENEW_S)
            self.store.renew_lease(self.run_id, self.shard, self.owner, TTL_S)

    def release(self, status: str) -> None:
        self.store.release_lease(self.run_id, self.shard, self.owner, status)


async def take_lease(store: BaseStore, run_id: str, shard: str, n_total: int,
                     wait: bool = False) -> Lease:
    """The lease on (run, shard) (``shard``: ``""`` for an unsharded run, else ``i/N``).  Held
    by another live process: ``MedgaugeError`` naming it, or with ``wait`` poll until free."""
    me = owner_id()
    told = False
    while True:
        holder, expires = store.acquire_lease(run_id, shard, me, TTL_S, n_total)
        if holder is not None and holder != me and is_dead(holder):
            holder, expires = store.acquire_lease(run_id, shard, me, TTL_S, n_total,
                                                  stale_owner=holder)
        if holder == me:
            return Lease(store, run_id, shard, me)
        what = f"run {run_id}" + (f" shard {shard}" if shard else "")
        until = time.strftime("%H:%M:%S UTC", time.gmtime(expires))
        if not wait:
            raise MedgaugeError(f"{what} is being run by {describe(holder or '?')} (lease held "
                                f"until {until}, renewed while it runs); wait for it with "
                                "--wait, or stop that process")
        if not told:
            print(f"waiting for {what}: {describe(holder or '?')} is running it",
                  file=sys.stderr, flush=True)
            told = True
        await asyncio.sleep(POLL_S)
