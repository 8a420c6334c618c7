"""Parser for rtamt's discrete-time STL syntax (the subset cadence evaluates).

Precedence follows rtamt's grammar (``StlParser.g4``), loosest first: ``implies`` < ``or`` <
``and`` < ``until`` < prefix ``eventually`` < ``always`` < ``not`` < comparisons < ``+ -`` <
``* /`` < unary minus. Binary operators associate to the left. One deliberate difference: rtamt
gives ``+``/``-`` (and ``*``/``/``) separate precedence levels, so it reads ``a - b + c`` as
``a - (b + c)``; cadence uses the usual arithmetic convention. Parenthesise to be portable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import NamedTuple

from cadence.stl.ast import (
    UNBOUNDED,
    Abs,
    Always,
    And,
    Arith,
    Const,
    Eventually,
    Expr,
    Formula,
    Implies,
    Interval,
    Neg,
    Not,
    Or,
    Predicate,
    Until,
    Var,
)
from cadence.stl.errors import STLBoundError, STLSignalError, STLSyntaxError, caret

_KEYWORDS = {
    "always": "always", "G": "always",
    "eventually": "eventually", "F": "eventually",
    "until": "until", "U": "until",
    "and": "and", "or": "or", "not": "not", "implies": "implies", "abs": "abs",
}  # fmt: skip
# rtamt operators cadence does not evaluate (past-time, next, iff/xor, rise/fall, sqrt/exp/pow).
_UNSUPPORTED = frozenset(
    (
        "iff",
        "xor",
        "since",
        "once",
        "historically",
        "next",
        "prev",
        "unless",
        "rise",
        "fall",
        "sqrt",
        "exp",
        "pow",
    )
)
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><->|->|&&|\|\||!==|==|<=|>=|[<>+\-*/()\[\]:!,])"
)
_SYMBOL_ALIASES = {"->": "implies", "&&": "and", "||": "or", "!": "not"}
# Binary operators: precedence (rtamt's numbers) -- larger binds tighter.
_BINARY = {
    "implies": 7, "or": 8, "and": 9, "until": 12,
    "<": 22, "<=": 22, ">": 22, ">=": 22,
    "+": 24, "-": 24, "*": 26, "/": 26,
}  # fmt: skip
_PREFIX = {"not": 21, "always": 20, "eventually": 19}
_UNARY_MINUS = 27
_COMPARISONS = frozenset(("<", "<=", ">", ">="))
_HINTS = {
    "==": "'==' is not supported; write it as two comparisons, e.g. 'x >= 1 and x <= 1'",
    "!==": "'!==' is not supported",
    "<->": "'<->' (iff) is not supported",
}


class Token(NamedTuple):
    """A lexical token: ``kind`` is ``num``, ``name``, ``kw``, ``op`` or ``end``."""

    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raises :class:`STLSyntaxError` on a stray character."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise STLSyntaxError(f"unexpected character {text[pos]!r}", text, pos)
        kind = match.lastgroup or ""
        word = match.group()
        if kind == "name" and word in _KEYWORDS:
            tokens.append(Token("kw", _KEYWORDS[word], pos))
        elif kind == "op" and word in _SYMBOL_ALIASES:
            tokens.append(Token("kw", _SYMBOL_ALIASES[word], pos))
        elif kind == "op" and word in _HINTS:
            raise STLSyntaxError(_HINTS[word], text, pos)
        elif kind == "name" and word in _UNSUPPORTED:
            raise STLSyntaxError(
                f"operator {word!r} is not supported (supported: always, eventually, until, "
                "and, or, not, implies, abs)",
                text,
                pos,
            )
        elif kind != "ws":
            tokens.append(Token(kind, word, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _describe(token: Token) -> str:
    return "end of input" if token.kind == "end" else repr(token.text)


class _Parser:
    """Pratt parser over one token list; nodes come back with the column they start at."""

    def __init__(self, text: str, signals: frozenset[str] | None) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.signals = signals

    # -- token helpers -------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str, what: str) -> Token:
        token = self.peek()
        if token.text != text:
            self.fail(f"expected {what}, found {_describe(token)}", token.pos)
        return self.take()

    def fail(self, message: str, pos: int) -> None:
        raise STLSyntaxError(message, self.text, pos)

    def formula(self, node: Formula | Expr, pos: int) -> Formula:
        if not isinstance(node, Formula):
            self.fail(f"expected a formula (a comparison such as 'x > 0'), found the term '{node}'", pos)
        return node  # type: ignore[return-value]

    def term(self, node: Formula | Expr, pos: int) -> Expr:
        if not isinstance(node, Expr):
            self.fail("expected an arithmetic term, found a formula", pos)
        return node  # type: ignore[return-value]

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Formula:
        start = self.peek().pos
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            self.fail(f"unexpected {_describe(token)} after a complete formula", token.pos)
        return self.formula(node, start)

    def expression(self, min_prec: int) -> Formula | Expr:
        start = self.peek().pos
        left = self.prefix()
        while True:
            token = self.peek()
            prec = _BINARY.get(token.text) if token.kind in ("op", "kw") else None
            if prec is None or prec < min_prec:
                return left
            self.take()
            interval = self.interval() if token.text == "until" else UNBOUNDED
            right_pos = self.peek().pos
            right = self.expression(prec + 1)
            left = self.binary(token, left, start, right, right_pos, interval)

    def binary(
        self,
        token: Token,
        left: Formula | Expr,
        left_pos: int,
        right: Formula | Expr,
        right_pos: int,
        interval: Interval,
    ) -> Formula | Expr:
        op = token.text
        if op in ("+", "-", "*", "/"):
            return Arith(op, self.term(left, left_pos), self.term(right, right_pos))
        if op in _COMPARISONS:
            if isinstance(left, Predicate):
                self.fail("comparisons cannot be chained; join them with 'and'", token.pos)
            return Predicate(op, self.term(left, left_pos), self.term(right, right_pos))
        lhs, rhs = self.formula(left, left_pos), self.formula(right, right_pos)
        if op == "until":
            return Until(lhs, rhs, interval)
        return {"and": And, "or": Or, "implies": Implies}[op](lhs, rhs)

    def prefix(self) -> Formula | Expr:
        token = self.take()
        if token.kind == "num":
            return Const(float(token.text))
        if token.kind == "name":
            if self.signals is not None and token.text not in self.signals:
                known = ", ".join(sorted(self.signals)) or "none"
                raise STLSignalError(
                    f"unknown signal {token.text!r} (column {token.pos + 1}; known signals: {known}):\n"
                    + caret(self.text, token.pos)
                )
            return Var(token.text)
        if token.text == "(":
            node = self.expression(0)
            self.expect(")", "')'")
            return node
        if token.text == "-":
            pos = self.peek().pos
            arg = self.term(self.expression(_UNARY_MINUS), pos)
            return Const(-arg.value) if isinstance(arg, Const) else Neg(arg)
        if token.text == "abs":
            self.expect("(", "'(' after abs")
            pos = self.peek().pos
            arg = self.term(self.expression(0), pos)
            self.expect(")", "')'")
            return Abs(arg)
        if token.text in _PREFIX:
            interval = self.interval() if token.text != "not" else UNBOUNDED
            pos = self.peek().pos
            arg = self.formula(self.expression(_PREFIX[token.text]), pos)
            if token.text == "not":
                return Not(arg)
            return (Always if token.text == "always" else Eventually)(arg, interval)
        self.fail(
            f"unexpected {_describe(token)}; expected a signal, a number, '(' or an operator", token.pos
        )
        raise AssertionError  # unreachable: fail() raises

    def interval(self) -> Interval:
        if self.peek().text != "[":
            return UNBOUNDED
        open_pos = self.take().pos
        lo = self.bound()
        self.expect(":", "':' between the bounds")
        hi = self.bound()
        self.expect("]", "']'")
        if lo > hi:
            raise STLBoundError(
                f"inverted time bound [{lo:g}:{hi:g}] (column {open_pos + 1}): the lower bound must "
                f"not exceed the upper one:\n{caret(self.text, open_pos)}"
            )
        return Interval(lo, hi)

    def bound(self) -> float:
        token = self.take()
        if token.text == "-":
            raise STLBoundError(
                f"negative time bound (column {token.pos + 1}): bounds are seconds >= 0:\n"
                + caret(self.text, token.pos)
            )
        if token.kind != "num":
            self.fail(f"expected a time bound (a number of seconds), found {_describe(token)}", token.pos)
        value = float(token.text)
        unit = self.peek()
        if unit.kind == "name" and unit.text in _UNITS:
            self.take()
            value *= _UNITS[unit.text]
        if not math.isfinite(value):
            self.fail("time bound is not finite", token.pos)
        return value


def parse(text: str, signals: Iterable[str] | None = None) -> Formula:
    """Parse an STL specification in rtamt's discrete-time syntax.

    Args:
        text: the specification, e.g. ``"always[0:10](x < 5) and eventually[0:20](y > 2)"``.
            Bounds are seconds (optional unit ``s``, ``ms``, ``us``, ``ns``); aliases ``G F U
            && || ! ->`` are accepted as in rtamt.
        signals: if given, the names the formula may use; any other name is an error.

    Returns:
        The formula tree (frozen dataclasses from :mod:`cadence.stl.ast`).

    Raises:
        STLSyntaxError: malformed text (the message has a caret under the bad token).
        STLSignalError: a signal outside ``signals``.
        STLBoundError: a negative or inverted time bound.
    """
    if not isinstance(text, str):
        raise TypeError(f"STL specification must be a string, got {type(text).__name__}")
    if not text.strip():
        raise STLSyntaxError("empty specification", text, 0)
    return _Parser(text, None if signals is None else frozenset(signals)).parse()
