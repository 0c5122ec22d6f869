"""The cache key's JSON is written member by member (for speed); it must stay the exact text of
one ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` of the whole
request, or every response stored by an earlier release would be asked again."""

from __future__ import annotations

import json

import pytest

from medgauge.runner.request_key import _image_for_key, request_hash, request_record
from medgauge.types import GenParams, ImageRef, Request, map_image_parts


def _whole(identity: str, request: Request, extra: str | None) -> str:
    return json.dumps({
        "model": identity,
        **({"extra": extra} if extra is not None else {}),
        "params": request.params.as_dict(),
        "messages": [map_image_parts(m, _image_for_key) for m in request.messages],
        "continuations": list(request.continuations),
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize("extra", [None, "chat-template:abc", 'quote " and é'])
@pytest.mark.parametrize("params", [
    GenParams(),
    GenParams(temperature=0.7, max_tokens=None, top_p=0.9, seed=3, n=3, logprobs=True,
              top_logprobs=5, stop=("\n", "Answer:")),
])
@pytest.mark.parametrize("continuations", [(), ("A", "B é")])
def test_member_by_member_json_equals_one_dumps(shared_data, extra, params, continuations):
    image = ImageRef(str(next((shared_data / "vqa_rad" / "images").iterdir())), role="current")
    request = Request(messages=[
        {"role": "system", "content": "Radiologist. ünïcode \u2028 line separator"},
        {"role": "user", "content": [{"type": "image", "image": image},
                                     {"type": "text", "text": 'Is it "normal"?\n{braces}'}]},
    ], params=params, continuations=continuations)
    record = request_record("openai:model-x", request, extra)
    assert record == _whole("openai:model-x", request, extra)
    assert request_hash(record) == request_hash(_whole("openai:model-x", request, extra))
