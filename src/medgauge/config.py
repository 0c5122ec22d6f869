"""Run configuration: from command-line flags or a YAML/TOML file, validated with pydantic.

```yaml
store: medgauge.db
seed: 0
generation: {temperature: 0, max_tokens: 64}
benchmarks:
  - name: vqa-rad
    data: ~/data/vqa_rad
    options: {split: test}
    limit: 200            # optional
    prompt: mcq           # optional: template name or literal text with {question}
    scoring: medevalkit   # optional
    metrics: [accuracy, token_f1]   # optional: declared metrics (the first is the headline)
models:
  - spec: openai:Qwen2.5-VL-7B-Instruct
    options: {base_url: [http://gpu1:8000/v1, http://gpu2:8000/v1], api_key_env: VLLM_KEY}
  - spec: baseline:random
probes: [blind, permute]
pipeline: few_shot(k=2) -> chain_of_thought -> generate(n=3) -> vote   # or a YAML list
grader: {spec: openai:judge, options: {base_url: http://judge:8000/v1}}  # --scoring grader
# or several graders (--scoring jury): a list of {spec, options}; options price_in/price_out
# (USD per million tokens) price a grader's tokens
```
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medgauge.types import GenParams, MedgaugeError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BenchmarkConfig(_Strict):
    name: str
    data: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    limit: int | None = Field(default=None, ge=1)
    sample: int | None = Field(default=None, ge=1)   # seeded random sample (seed: run's seed)
    stratify: str | None = None                      # stratify the sample by this field
    ids: str | None = None                           # file of sample ids, one a line
    prompt: str | None = None
    system: str | None = None                        # system prompt (overrides the template's)
    scoring: str | None = None
    metrics: list[str] = Field(default_factory=list)


class ModelConfig(_Strict):
    spec: str
    options: dict[str, Any] = Field(default_factory=dict)


class GenerationConfig(_Strict):
    temperature: float = Field(default=0.0, ge=0.0)
    max_tokens: int | None = Field(default=512, ge=1)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    n: int = Field(default=1, ge=1)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    stop: list[str] = Field(default_factory=list)

    def params(self) -> GenParams:
        return GenParams(self.temperature, self.max_tokens, self.top_p, self.seed, self.n,
                         self.logprobs, self.top_logprobs, tuple(self.stop))


class RunConfig(_Strict):
    store: str = "medgauge.db"
    seed: int = 0
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    benchmarks: list[BenchmarkConfig] = Field(min_length=1)
    models: list[ModelConfig] = Field(min_length=1)
    probes: list[str] = Field(default_factory=list)
    probe_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    pipeline: str | list[Any] | None = None
    grader: ModelConfig | list[ModelConfig] | None = None

    def graders(self) -> list[ModelConfig]:
        """The grader models, in order (one ``grader:`` value or a list)."""
        if self.grader is None:
            return []
        return list(self.grader) if isinstance(self.grader, list) else [self.grader]


def load_config(path: Path) -> RunConfig:
    if not path.is_file():
        raise MedgaugeError(f"config file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MedgaugeError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
                            ) from None
    try:
        if path.suffix.lower() == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml and toml raise their own error types
        raise MedgaugeError(f"{path}: cannot parse config ({exc})".replace("\n", " ")) from None
    return parse_config(data, str(path))


def parse_config(data: Any, where: str = "config") -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise MedgaugeError(f"{where}: field {loc}: {first['msg']}{more}") from None
