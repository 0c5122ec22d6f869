"""Chat templates for the ``hf`` backend's ``chat_template`` option: ``model`` (the checkpoint's
own, the default), a named one below, or a ``.jinja`` file.

A named template serves checkpoints that ship none, or a comparison of prompt formats.  The
templates take text content either as a string or as a list of ``{"type": "text"}`` parts (other
parts are dropped: these are for text-only models).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from medgauge.types import MedgaugeError

_TEXT = ("{% if message['content'] is string %}{{ message['content'] }}{% else %}"
         "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}"
         "{% endif %}{% endfor %}{% endif %}")

NAMED: dict[str, tuple[str, str]] = {
    # ChatML (OpenAI's chat markup; Qwen, SmolLM2 and Hermes use it)
    "chatml": ("ChatML: <|im_start|>role\\n...<|im_end|> (Qwen, SmolLM2, Hermes)",
               "{% for message in messages %}<|im_start|>{{ message['role'] }}\n" + _TEXT
               + "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
               "{% endif %}"),
    # No markup at all: the turns as "Role: text" lines, ending with "Assistant:".
    "plain": ("plain text turns (System:/User:/Assistant:), for base models",
              "{% for message in messages %}{{ message['role'] | capitalize }}: " + _TEXT
              + "\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"),
}


def resolve_chat_template(value: str | None) -> tuple[str | None, str | None]:
    """(jinja text or None for the model's own, identity label or None) for an option value:
    ``model``/None, a name in ``NAMED``, or a path to a ``.jinja`` file (its identity is a hash
    of its content, so editing the file makes a new model identity)."""
    if value is None or str(value) in ("", "model"):
        return None, None
    name = str(value)
    if name in NAMED:
        return NAMED[name][1], name
    path = Path(name).expanduser()
    if path.suffix == ".jinja" or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MedgaugeError(f"hf: chat_template file {path}: {exc.strerror or exc}") from None
        digest = hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
        return text, f"file:{digest}"
    raise MedgaugeError(f"hf: unknown chat_template {name!r} (use model, "
                        f"{', '.join(NAMED)}, or a .jinja file)")
