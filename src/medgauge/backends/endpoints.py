"""Load spreading over several base URLs with a circuit breaker per endpoint.

Each request goes to the endpoint with the fewest requests in flight among those whose circuit
is closed; a retry avoids the endpoint that just failed when another one is available.  After
``threshold`` consecutive failures (connection errors, timeouts, 5xx, 429) an endpoint's circuit
opens for a cooldown that doubles on each new trip (``cooldown`` .. ``max_cooldown`` seconds);
when the cooldown ends the circuit is half-open: one probe request may go there, and its outcome
closes the circuit or opens it again.  When every circuit is open there is nowhere better to
go: requests go to the endpoint whose cooldown ends first, paced by the caller's retry backoff.
This is the classic circuit-breaker pattern (M. Nygard, "Release It!", 2007); a few lines,
so no library.
"""

from __future__ import annotations

import time


class EndpointPool:
    def __init__(self, urls: list[str], threshold: int = 3, cooldown: float = 1.0,
                 max_cooldown: float = 30.0) -> None:
        self.urls = list(urls)
        self.threshold = threshold
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.in_flight = dict.fromkeys(self.urls, 0)
        self.failures = dict.fromkeys(self.urls, 0)
        self.trips = dict.fromkeys(self.urls, 0)
        self.open_until = dict.fromkeys(self.urls, 0.0)
        self.probing: set[str] = set()

    def _usable(self, url: str, now: float) -> bool:
        if self.failures[url] < self.threshold:
            return True  # closed
        return now >= self.open_until[url] and url not in self.probing  # half-open: one probe

    def acquire(self, avoid: str | None = None) -> str:
        """An endpoint to send to (counted in flight until ``release``)."""
        now = time.monotonic()
        usable = [u for u in self.urls if self._usable(u, now)]
        if usable:
            if avoid is not None and len(usable) > 1:
                usable = [u for u in usable if u != avoid] or usable
            url = usable[0] if len(usable) == 1 else min(usable,
                                                         key=self.in_flight.__getitem__)
            if self.failures[url] >= self.threshold:
                self.probing.add(url)
            self.in_flight[url] += 1
            return url
        # Every circuit is open: there is nowhere better to go, so the request goes to the
        # endpoint whose cooldown ends first (the caller's retry backoff paces it) rather
        # than waiting; a breaker steers traffic, it does not slow a lone server down.
        url = min(self.urls, key=self.open_until.__getitem__)
        self.in_flight[url] += 1
        return url

    def release(self, url: str, ok: bool) -> None:
        """``ok``: the server answered (any answer that is not a 5xx/429 or a dropped
        connection); otherwise the failure counts towards opening the circuit."""
        self.in_flight[url] -= 1
        was_probe = url in self.probing
        self.probing.discard(url)
        if ok:
            self.failures[url] = 0
            self.trips[url] = 0
            return
        self.failures[url] += 1
        if was_probe or self.failures[url] == self.threshold:
            self.trips[url] += 1
            pause = min(self.max_cooldown, self.cooldown * 2 ** (self.trips[url] - 1))
            self.open_until[url] = time.monotonic() + pause

    def is_open(self, url: str) -> bool:
        return self.failures[url] >= self.threshold
