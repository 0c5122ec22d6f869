"""The cache key of a request: a hash of the exact request a backend would see.

Model identity, generation parameters, messages (image parts replaced by the image's path and
content hash) and scored continuations.  ``Request.meta`` is informational and not part of it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from medgauge.types import GenParams, ImageRef, Request, Sample, map_image_parts


def _image_for_key(img: ImageRef) -> dict[str, Any]:
    return {"type": "image", "path": img.path, "sha": img.content_hash(),
            **({"role": img.role} if img.role else {})}


def request_record(identity: str, request: Request, extra: str | None = None) -> str:
    """Canonical JSON of the request as stored for audit (no image bytes).  ``extra``: what the
    backend says decides its answer beyond the request (``Backend.key_extra``).

    The JSON of ``{"continuations", "extra", "messages", "model", "params"}`` with sorted keys
    and no spaces, written member by member (the parameters' JSON once per ``GenParams``): the
    same text as one ``json.dumps(..., sort_keys=True)`` of the whole, so keys stay stable."""
    members = [f'"continuations":{_json(list(request.continuations))}']
    if extra is not None:
        members.append(f'"extra":{_json(extra)}')
    members.append('"messages":'
                   + _json([map_image_parts(m, _image_for_key) for m in request.messages]))
    members.append(f'"model":{_json(identity)}')
    members.append(f'"params":{_params_json(request.params)}')
    return "{" + ",".join(members) + "}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=64)
def _params_json(params: GenParams) -> str:
    return _json(params.as_dict())


def request_hash(record: str) -> str:
    return hashlib.blake2b(record.encode(), digest_size=16).hexdigest()


def sample_fingerprint(sample: Sample) -> str:
    """What a stored item was scored against: question, gold answer, options, images (paths),
    context.  A rerun re-solves a sample whose fingerprint changed (edited benchmark data)
    instead of keeping its old score; unchanged requests still come from the response cache."""
    fields = [sample.question, sample.answer, sample.answer_type, sample.options,
              [i.path for i in sample.images], sample.context, list(sample.labels)]
    if sample.answers:  # extra accepted references (only when present: old fingerprints hold)
        fields.append(list(sample.answers))
    if sample.history:
        fields.append(list(sample.history))
    blob = json.dumps(fields, ensure_ascii=False, sort_keys=True)
    return hashlib.blake2b(blob.encode(), digest_size=8).hexdigest()
