"""The optional ``llama`` back end: a local GGUF model through llama-cpp-python.

llama-cpp-python is not a dependency (it compiles from source for about 12 minutes on a small
machine, ENVIRONMENT.md); without it, :meth:`LlamaBackend.from_config` raises
:class:`BackendUnavailable` naming the pip package. With it, the model answers the same prompts as
the ``openai`` back end, constrained to the intent JSON schema, and the planner validates the reply.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cadence.planner import prompts
from cadence.planner.errors import BackendError, BackendUnavailable, PlanFormatError
from cadence.planner.intent import Intent, intent_from_json, intent_schema
from cadence.planner.timing import rover_limits

if TYPE_CHECKING:
    from cadence.planner.backends import Backend, PlanRequest

PIP_PACKAGE = "llama-cpp-python"


@dataclass(frozen=True)
class LlamaConfig:
    """Options of the ``llama`` back end: ``model_path`` to a .gguf file, context and sampling."""

    model_path: str = ""
    n_ctx: int = 4096
    n_threads: int | None = None
    temperature: float = 0.0
    max_tokens: int = 400
    attempts: int = 2
    fallback: str | None = "rules"


class LlamaBackend:
    """Plans with a local GGUF model (see the module docstring)."""

    name = "llama"

    def __init__(self, config: LlamaConfig, llm: Any) -> None:
        self.config = config
        self.max_attempts = config.attempts
        self._llm = llm
        self.fallback: Backend | None = None
        if config.fallback:
            from cadence.planner.backends import make_backend

            self.fallback = make_backend(config.fallback)

    @classmethod
    def from_config(cls, **config: Any) -> LlamaBackend:
        """Load the model.

        Raises:
            BackendUnavailable: when llama_cpp is not importable (install ``llama-cpp-python``).
            ValueError: for unknown options or a missing model file.
        """
        valid = [f.name for f in fields(LlamaConfig)]
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(
                f"unknown llama back end option(s) {', '.join(unknown)}; options: {', '.join(valid)}"
            )
        if importlib.util.find_spec("llama_cpp") is None:
            raise BackendUnavailable(
                f"the llama back end needs the Python package {PIP_PACKAGE!r} (module llama_cpp), which is not "
                f"installed: pip install {PIP_PACKAGE} (it compiles from source), or use --backend rules|openai"
            )
        cfg = LlamaConfig(**config)
        path = Path(cfg.model_path)
        if not path.is_file():
            raise ValueError(f"llama back end: model_path {cfg.model_path!r} is not a GGUF file")
        from llama_cpp import Llama

        return cls(cfg, Llama(model_path=str(path), n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, verbose=False))

    def propose(self, request: PlanRequest, feedback: str | None = None) -> Intent:
        """One schema-constrained completion, strictly parsed (images are not used)."""
        msgs = prompts.messages(request, feedback, rover_limits()[0], None)
        try:
            out = self._llm.create_chat_completion(
                messages=msgs,
                response_format={"type": "json_object", "schema": intent_schema(request.scene.region_names)},
                temperature=self.config.temperature,
                max_tokens=self.config.max_tokens,
            )
            content = out["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise PlanFormatError(f"llama reply has no message content: {err}") from err
        except RuntimeError as err:
            raise BackendError(f"llama back end failed: {err}") from err
        return intent_from_json(prompts.strip_fences(content or ""), request.scene.region_names)
