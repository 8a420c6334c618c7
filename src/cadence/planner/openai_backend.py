"""The ``openai`` back end: any OpenAI-compatible chat server (ollama, vLLM, llama.cpp, hosted APIs).

``POST {base_url}/chat/completions`` with the standard library's HTTP client. Structured output:
``response_format`` ``json_schema`` (the intent schema, region names as an enum) when the server
accepts it; on an HTTP 400 that mentions ``response_format`` the back end steps down to
``json_object`` and then to plain JSON in the prompt, and remembers what worked. Transport failures
(timeouts, refused connections, HTTP 429/5xx) are retried ``retries`` times with a short backoff and
then raised as :class:`BackendError`; unusable replies (malformed JSON, NaN, extra keys, unknown
regions) raise :class:`PlanFormatError`, which the planner feeds back to the model on its next
attempt (as RAI does). When every attempt fails the planner falls back to ``fallback`` (``rules``).
The API key is read from the environment variable ``api_key_env`` (never from a file or argument).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from cadence.planner import prompts
from cadence.planner.errors import BackendError, PlanFormatError
from cadence.planner.image import data_url
from cadence.planner.intent import Intent, intent_from_json, intent_schema
from cadence.planner.timing import rover_limits

if TYPE_CHECKING:
    from cadence.planner.backends import Backend, PlanRequest

STRUCTURED_MODES = ("json_schema", "json_object", "none")


@dataclass(frozen=True)
class OpenAIConfig:
    """Options of the ``openai`` back end.

    Attributes:
        base_url: Server root including ``/v1`` (``http://127.0.0.1:11434/v1`` for ollama).
        model: Model name on that server.
        api_key_env: Environment variable holding the API key (unset: no Authorization header).
        timeout_s: Per-request timeout.
        retries: Extra tries after a transport failure.
        backoff_s: Sleep before the first retry (doubles each time).
        attempts: Replies the planner may ask for, feeding each rejection back.
        structured: ``auto`` (try ``json_schema``, step down on 400) or one of
            ``json_schema``, ``json_object``, ``none``.
        temperature: Sampling temperature.
        max_tokens: Reply length cap.
        send_image: Attach the camera frame when the request has one.
        fallback: Back end used when every attempt fails (``rules``), or None.
    """

    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = "llama3.2"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.2
    attempts: int = 3
    structured: str = "auto"
    temperature: float = 0.0
    max_tokens: int = 400
    send_image: bool = True
    fallback: str | None = "rules"

    def __post_init__(self) -> None:
        if self.structured not in ("auto", *STRUCTURED_MODES):
            raise ValueError(
                f"structured must be one of auto, {', '.join(STRUCTURED_MODES)}; got {self.structured!r}"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        if self.timeout_s <= 0 or self.retries < 0 or self.attempts < 1:
            raise ValueError("timeout_s must be > 0, retries >= 0 and attempts >= 1")


class OpenAIBackend:
    """Plans through an OpenAI-compatible ``/chat/completions`` endpoint (see the module docstring)."""

    name = "openai"

    def __init__(self, config: OpenAIConfig) -> None:
        self.config = config
        self.max_attempts = config.attempts
        self._mode = "json_schema" if config.structured == "auto" else config.structured
        self.fallback: Backend | None = None
        if config.fallback:
            from cadence.planner.backends import make_backend

            self.fallback = make_backend(config.fallback)

    @classmethod
    def from_config(cls, **config: Any) -> OpenAIBackend:
        """Build from keyword options; unknown ones raise ValueError listing the valid names."""
        valid = [f.name for f in fields(OpenAIConfig)]
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ValueError(
                f"unknown openai back end option(s) {', '.join(unknown)}; options: {', '.join(valid)}"
            )
        return cls(OpenAIConfig(**config))

    @property
    def structured_mode(self) -> str:
        """The structured-output mode currently used (after any step-down)."""
        return self._mode

    def propose(self, request: PlanRequest, feedback: str | None = None) -> Intent:
        """Ask the model once (transport retries included) and strictly parse its reply.

        Raises:
            BackendError: when the server cannot be reached or keeps failing.
            PlanFormatError: for an unusable reply.
        """
        image = data_url(request.image_jpeg) if (request.image_jpeg and self.config.send_image) else None
        msgs = prompts.messages(request, feedback, rover_limits()[0], image)
        reply = self._complete(msgs, request.scene.region_names)
        return _parse_reply(reply, request.scene.region_names)

    # ------------------------------------------------------------------ HTTP
    def _body(self, msgs: list[dict[str, Any]], regions: tuple[str, ...]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": msgs,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if self._mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "cadence_intent", "strict": True, "schema": intent_schema(regions)},
            }
        elif self._mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def _complete(self, msgs: list[dict[str, Any]], regions: tuple[str, ...]) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        failures: list[str] = []
        tries = 0
        while tries <= self.config.retries:
            status, payload = self._post(url, self._body(msgs, regions))
            if status == 400 and self._step_down(payload):
                continue  # same try, simpler response_format
            if status == 200:
                return _decode(payload)
            tries += 1
            failures.append(f"HTTP {status}" if status else payload.decode("utf-8", "replace"))
            if status and status not in (408, 409, 429) and status < 500:
                break  # a client error will not fix itself
            if tries <= self.config.retries:
                time.sleep(self.config.backoff_s * 2 ** (tries - 1))
        raise BackendError(f"openai back end at {url}: {'; '.join(failures)}")

    def _step_down(self, payload: bytes) -> bool:
        if self.config.structured != "auto" or b"response_format" not in payload:
            return False
        i = STRUCTURED_MODES.index(self._mode)
        if i + 1 >= len(STRUCTURED_MODES):
            return False
        self._mode = STRUCTURED_MODES[i + 1]
        return True

    def _post(self, url: str, body: dict[str, Any]) -> tuple[int, bytes]:
        """(HTTP status, body); status 0 with the reason as body for transport failures."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.config.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.config.timeout_s) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as err:
            return int(err.code), err.read() or b""
        except TimeoutError:
            return 0, f"no reply within {self.config.timeout_s:g} s".encode()
        except http.client.HTTPException as err:  # IncompleteRead, BadStatusLine: a broken reply
            return 0, f"broken HTTP reply: {type(err).__name__}".encode()
        except (urllib.error.URLError, ConnectionError, OSError) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                return 0, f"no reply within {self.config.timeout_s:g} s".encode()
            return 0, f"cannot reach the server: {reason}".encode()


def _decode(payload: bytes) -> dict[str, Any]:
    try:
        data = json.loads(payload)
        message = data["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise PlanFormatError(f"the server's response is not a chat completion: {payload[:200]!r}") from err
    if not isinstance(message, dict):
        raise PlanFormatError("the server's response has no message object")
    return message


def _parse_reply(message: dict[str, Any], regions: tuple[str, ...]) -> Intent:
    refusal = message.get("refusal")
    content = message.get("content")
    if refusal and not content:
        return Intent(steps=(), refusal=str(refusal)[:300])
    if not isinstance(content, str) or not content.strip():
        raise PlanFormatError("the model's reply is empty")
    return intent_from_json(prompts.strip_fences(content), regions)
