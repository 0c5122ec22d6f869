"""One rule for showing URLs and command lines without secrets.

A base URL may carry credentials in ``user:password@`` or in query values (``?api_key=...``).
Every message, progress line and printed command (``Resume with:``, ``Rerun to retry them:``)
goes through ``redact_url`` / ``redact_command``: the user info becomes ``***@`` and every
query value becomes ``***`` except the ones known to be harmless (``api-version``, as Azure
uses).
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters whose values are shown as written (not secrets).
PUBLIC_QUERY = frozenset({"api-version"})

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


def redact_url(url: str) -> str:
    """``https://u:p@host:8000/v1?api_key=k&api-version=2`` ->
    ``https://***@host:8000/v1?api_key=***&api-version=2``.  A URL that cannot be parsed
    (malformed IPv6 host, port out of range) is shown as ``<scheme>://<unparseable URL>``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        if "@" in parts.netloc:
            netloc = "***@" + netloc
        query = urlencode([(k, v if k.lower() in PUBLIC_QUERY else "***")
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                          safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return f"{url.partition('://')[0]}://<unparseable URL>"


def redact_text(text: str) -> str:
    """Every URL inside ``text`` redacted."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def redact_command(args: list[str]) -> str:
    """A shell command line (``shlex.join``) with every URL in it redacted."""
    return shlex.join([redact_text(a) for a in args])
