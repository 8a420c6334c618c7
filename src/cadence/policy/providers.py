"""ONNX Runtime execution-provider choice: TensorRT, then CUDA, then CPU (issue 4, "Runtime").

On a robot with ``onnxruntime-gpu`` the first available of TensorRT and CUDA is used; here (no GPU)
the CPU provider. Asking for a provider the installed onnxruntime lacks, or one that fails to create
a session (missing CUDA libraries, unsupported op), falls back to CPU with a log line rather than
failing: a slower policy beats a robot without a policy, and the log says why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cadence.policy.errors import ProviderError

if TYPE_CHECKING:
    import onnxruntime as ort

LOG = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", CPU)
ALIASES = {
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": CPU,
}


def canonical(name: str) -> str:
    """``"cuda"`` -> ``"CUDAExecutionProvider"``; full ONNX Runtime names pass through.

    Raises:
        ValueError: for a name that is neither an alias nor ``*ExecutionProvider``.
    """
    if name.endswith("ExecutionProvider"):
        return name
    try:
        return ALIASES[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown execution provider {name!r}; valid: {', '.join(sorted(ALIASES))} "
            "or an onnxruntime provider name such as CUDAExecutionProvider"
        ) from None


def session_options(threads: int = 1) -> ort.SessionOptions:
    """Options tuned for batch-1 latency of small policies.

    One intra-op thread and sequential execution: a 2-layer MLP is far too small to amortise
    thread hand-offs, and the robot's other nodes need the remaining cores. Spinning is disabled so
    an idle policy thread does not burn a core between decisions. Full graph optimisation (fusing
    Gemm + activation) is done once at load.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3  # errors only: our own log line reports the provider choice
    return opts


def choose(requested: Sequence[str] | None = None) -> list[str]:
    """Providers to try, best first, restricted to what this onnxruntime offers; CPU always last.

    Args:
        requested: Provider names or aliases in order of preference; ``None`` means
            TensorRT, CUDA, CPU.
    """
    import onnxruntime as ort

    available = set(ort.get_available_providers())
    wanted = [canonical(p) for p in requested] if requested else list(PREFERENCE)
    chosen = [p for p in wanted if p in available]
    missing = [p for p in wanted if p not in available]
    if missing and requested:
        LOG.warning(
            "execution provider(s) %s not available in this onnxruntime (available: %s); falling back",
            ", ".join(missing),
            ", ".join(sorted(available)),
        )
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen


def create_session(
    model: bytes, requested: Sequence[str] | None = None, threads: int = 1
) -> tuple[ort.InferenceSession, str]:
    """Create an inference session on the best provider that works, falling back to CPU.

    The session is built from the bytes already hashed by the caller, so the file cannot change
    between the sha256 check and the load, and external-data files can never be resolved.

    Returns:
        The session and the name of the provider it actually runs on.

    Raises:
        ProviderError: if not even the CPU provider can create the session (the model is invalid).
    """
    import onnxruntime as ort

    candidates = choose(requested)
    preferred = canonical(requested[0]) if requested else candidates[0]
    last_error: Exception | None = None
    for i, provider in enumerate(candidates):
        try:
            session = ort.InferenceSession(model, sess_options=session_options(threads), providers=[provider])
        except Exception as err:  # onnxruntime raises many unrelated types (Fail, RuntimeException, ...)
            last_error = err
            if i + 1 < len(candidates):
                LOG.warning(
                    "execution provider %s failed to create a session (%s); trying %s",
                    provider,
                    _first_line(err),
                    candidates[i + 1],
                )
            continue
        actual = session.get_providers()[0]
        if actual != preferred:
            LOG.warning("policy runs on %s (fallback; preferred %s)", actual, preferred)
        else:
            LOG.info("policy runs on %s", actual)
        return session, actual
    raise ProviderError(
        f"no execution provider could load the model: {_first_line(last_error)}"
    ) from last_error


def _first_line(err: BaseException | None) -> str:
    return str(err).strip().splitlines()[0] if err and str(err).strip() else type(err).__name__
