"""A numpy executor for small ONNX graphs (issue 4: "beating ONNX Runtime on tiny nets is fair game").

For a 50-256-256-32 MLP at batch 1 the matrix products take a few microseconds; ONNX Runtime's
per-call overhead (argument conversion, OrtValue creation, output allocation) is of the same order
and makes its p99 noisy. This module compiles the graph once into a list of numpy closures over
pre-transposed, contiguous weights, with the graph's constants folded.

It is used only when :class:`cadence.policy.runtime.OnnxPolicy` has verified, at load, that its
output equals ONNX Runtime's on the golden input and on random inputs, and has measured it to be
faster; otherwise ONNX Runtime runs. Unsupported operators raise :class:`Unsupported` at compile
time, never at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cadence.policy.errors import PolicyError


class Unsupported(PolicyError):
    """The graph uses an operator or attribute this executor does not implement."""


Step = Callable[[list[Any]], None]


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class NumpyGraph:
    """A compiled ONNX graph: ``run(x) -> first output`` for a single-input, single-output model."""

    def __init__(self, proto: Any) -> None:
        from onnx import numpy_helper

        graph = proto.graph
        self._slot: dict[str, int] = {}
        self._consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        if len(graph.input) - sum(i.name in self._consts for i in graph.input) != 1 or len(graph.output) != 1:
            raise Unsupported("only single-input, single-output graphs are compiled")
        self._input = self._index(graph.input[0].name)
        self._graph_outputs = {o.name for o in graph.output}
        self._consumers: dict[str, int] = {}
        for node in graph.node:
            for name in node.input:
                self._consumers[name] = self._consumers.get(name, 0) + 1
        self._steps: list[Step] = []
        for node in graph.node:
            self._compile(node)
        if graph.output[0].name in self._consts:
            raise Unsupported("constant output")
        self._output = self._index(graph.output[0].name)
        self._n = len(self._slot)
        # The output must not alias a reused buffer (or the caller's input).
        self._copy_out = isinstance(self._steps[-1], _GemmStep) if self._steps else True

    def run(self, x: np.ndarray) -> np.ndarray:
        """Run the graph on ``x`` (the model's single input); returns a fresh array."""
        env: list[Any] = [None] * self._n
        env[self._input] = x
        for step in self._steps:
            step(env)
        y = env[self._output]
        return y.copy() if self._copy_out else y

    # -- compilation ---------------------------------------------------------------------------

    def _index(self, name: str) -> int:
        if name not in self._slot:
            self._slot[name] = len(self._slot)
        return self._slot[name]

    def _const(self, name: str) -> np.ndarray | None:
        return self._consts.get(name)

    def _compile(self, node: Any) -> None:
        op, attrs = node.op_type, _attrs(node)
        if node.domain not in ("", "ai.onnx"):
            raise Unsupported(f"operator domain {node.domain!r}")
        ins = list(node.input)
        if op == "Constant":
            if "value" not in attrs:
                raise Unsupported("Constant without a tensor value")
            from onnx import numpy_helper

            self._consts[node.output[0]] = numpy_helper.to_array(attrs["value"])
            return
        # Fold nodes whose inputs are all constant (shape arithmetic, reshaped weights).
        consts = [self._const(i) for i in ins]
        if ins and all(c is not None for c in consts):
            fn = _pure(op, attrs, len(ins))
            self._consts[node.output[0]] = np.asarray(fn(*consts))
            return
        if op == "Gemm":
            self._gemm(node, attrs, consts)
            return
        if self._fusable(ins[0]) and self._fuse(op, attrs, consts):
            self._slot[node.output[0]] = self._steps[-1].out  # type: ignore[attr-defined]
            return
        if op == "Gather" and consts[1] is not None and consts[1].ndim == 0:
            # A constant scalar index is basic indexing: a view, no copy (np.take copies).
            index = (slice(None),) * attrs.get("axis", 0) + (int(consts[1]),)
            src, out = self._index(ins[0]), self._index(node.output[0])

            def gather(
                env: list[Any], index: tuple[Any, ...] = index, src: int = src, out: int = out
            ) -> None:
                env[out] = env[src][index]

            self._steps.append(gather)
            return
        fn = _pure(op, attrs, len(ins))
        args = [
            (True, c) if c is not None else (False, self._index(i)) for i, c in zip(ins, consts, strict=True)
        ]
        out = self._index(node.output[0])

        def step(env: list[Any], fn: Callable[..., Any] = fn, args: list[Any] = args, out: int = out) -> None:
            env[out] = fn(*[v if is_const else env[v] for is_const, v in args])

        self._steps.append(step)

    def _gemm(self, node: Any, attrs: dict[str, Any], consts: list[np.ndarray | None]) -> None:
        if attrs.get("transA", 0) or consts[1] is None:
            raise Unsupported("Gemm with transA or a non-constant B")
        w = consts[1].T if attrs.get("transB", 0) else consts[1]
        w = np.ascontiguousarray(w * attrs.get("alpha", 1.0), dtype=np.float32)
        b = None
        if len(consts) > 2 and node.input[2]:
            if consts[2] is None:
                raise Unsupported("Gemm with a non-constant C")
            b = np.ascontiguousarray(
                np.broadcast_to(consts[2] * attrs.get("beta", 1.0), w.shape[1:]), np.float32
            )
        self._steps.append(_GemmStep(w, b, self._index(node.input[0]), self._index(node.output[0])))

    def _fusable(self, name: str) -> bool:
        """The value is the output of the last compiled step, a Gemm, and nothing else reads it."""
        last = self._steps[-1] if self._steps else None
        return (
            isinstance(last, _GemmStep)
            and self._slot.get(name) == last.out
            and self._consumers.get(name, 0) == 1
            and name not in self._graph_outputs
        )

    def _fuse(self, op: str, attrs: dict[str, Any], consts: list[np.ndarray | None]) -> bool:
        """Fold ``op`` into the preceding Gemm when it is a pure function of the Gemm's output.

        Folded: ``Relu``/``Tanh``/``Sigmoid`` and ``Mul``/``Add`` by a constant (in place on the
        Gemm's own buffer); ``Reshape`` keeping the batch axis; ``Gather`` of a constant scalar
        index along a non-batch axis (a column selection of W: SRL's actor picks the mean half of
        its output this way, so half of the last layer is never computed).
        """
        gemm: _GemmStep = self._steps[-1]  # type: ignore[assignment]
        if op in _ACTIVATIONS and not attrs:
            gemm.post.append((_ACTIVATIONS[op], None))
            return True
        if op in ("Mul", "Add") and len(consts) == 2 and consts[0] is None and consts[1] is not None:
            c = consts[1]
            row = (1, *gemm.tail)
            if c.dtype.kind != "f" or np.broadcast_shapes(row, c.shape) != row:
                return False
            gemm.post.append((np.multiply if op == "Mul" else np.add, c.astype(np.float32)))
            return True
        if gemm.post:
            return False
        if op == "Reshape" and consts[1] is not None and not attrs.get("allowzero", 0):
            shape = [int(v) for v in consts[1]]
            tail = tuple(shape[1:])
            if (
                shape
                and shape[0] in (-1, 0)
                and all(v > 0 for v in tail)
                and int(np.prod(tail)) == gemm.width
            ):
                gemm.tail = tail
                return True
            return False
        if op == "Gather" and consts[1] is not None and consts[1].ndim == 0:
            axis = attrs.get("axis", 0)
            if not 1 <= axis <= len(gemm.tail):
                return False
            columns = np.take(np.arange(gemm.width).reshape(gemm.tail), int(consts[1]), axis=axis - 1)
            gemm.select(columns)
            return True
        return False


class _GemmStep:
    """``y = x @ W + b``, optionally reshaped, then in-place elementwise post-operations.

    Batch 1 uses a matrix-vector product into a preallocated row: about twice as fast as a
    1 x n matrix product in numpy, and allocation-free. The buffer is overwritten by the next call,
    so :meth:`NumpyGraph.run` copies a Gemm output that is the graph output.
    """

    def __init__(self, w: np.ndarray, b: np.ndarray | None, src: int, out: int) -> None:
        self.w, self.b, self.src, self.out = w, b, src, out
        self.tail: tuple[int, ...] = (w.shape[1],)
        self.post: list[tuple[Callable[..., Any], np.ndarray | None]] = []
        self._row = np.empty((1, w.shape[1]), np.float32)

    @property
    def width(self) -> int:
        return int(self.w.shape[1])

    def select(self, columns: np.ndarray) -> None:
        """Keep only ``columns`` (an index array whose shape becomes the new tail)."""
        flat = columns.ravel()
        self.w = np.ascontiguousarray(self.w[:, flat])
        self.b = None if self.b is None else np.ascontiguousarray(self.b[flat])
        self.tail = tuple(columns.shape) if columns.ndim else ()
        self._row = np.empty((1, len(flat)), np.float32)

    def __call__(self, env: list[Any]) -> None:
        x = env[self.src]
        if x.shape[0] == 1 and x.ndim == 2:
            y = self._row
            np.dot(x[0], self.w, out=y[0])
        else:
            y = x @ self.w
        if self.b is not None:
            np.add(y, self.b, out=y)
        if len(self.tail) != 1:
            y = y.reshape((y.shape[0], *self.tail))
        for fn, c in self.post:
            if c is None:
                fn(y, out=y)
            else:
                fn(y, c, out=y)
        env[self.out] = y


def _relu(x: np.ndarray, out: np.ndarray) -> None:
    np.maximum(x, np.float32(0.0), out=out)


def _sigmoid(x: np.ndarray, out: np.ndarray) -> None:
    np.negative(x, out=out)
    np.exp(out, out=out)
    np.add(out, np.float32(1.0), out=out)
    np.reciprocal(out, out=out)


_ACTIVATIONS: dict[str, Callable[..., Any]] = {"Relu": _relu, "Tanh": np.tanh, "Sigmoid": _sigmoid}


def _pure(op: str, attrs: dict[str, Any], n_in: int) -> Callable[..., Any]:
    """The numpy function of an elementwise or shape operator."""
    simple: dict[str, Callable[..., Any]] = {
        "Add": np.add,
        "Sub": np.subtract,
        "Mul": np.multiply,
        "Div": np.divide,
        "MatMul": np.matmul,
        "Tanh": np.tanh,
        "Exp": np.exp,
        "Neg": np.negative,
        "Identity": lambda x: x,
        "Relu": lambda x: np.maximum(x, 0, dtype=x.dtype),
        "Sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    }
    if op in simple:
        return simple[op]
    if op == "Reshape":
        if attrs.get("allowzero", 0):
            raise Unsupported("Reshape allowzero")
        return lambda x, shape: x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(shape.tolist())])
    if op == "Gather":
        axis = attrs.get("axis", 0)
        return lambda x, idx: np.take(x, idx, axis=axis)
    if op == "Clip":
        return lambda x, lo=None, hi=None: np.clip(x, lo, hi)
    if op == "Flatten":
        axis = attrs.get("axis", 1)
        return lambda x: x.reshape(int(np.prod(x.shape[:axis])), -1)
    if op == "Concat":
        axis = attrs["axis"]
        return lambda *xs: np.concatenate(xs, axis=axis)
    if op in ("Squeeze", "Unsqueeze") and n_in == 2:
        f = np.squeeze if op == "Squeeze" else np.expand_dims
        return lambda x, axes: f(x, tuple(int(a) for a in axes))
    raise Unsupported(f"operator {op}")
