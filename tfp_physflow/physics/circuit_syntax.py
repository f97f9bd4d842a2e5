"""Circuit strings: element types, the parse tree and its recursive-descent parser.

Syntax (as in impedance-spectroscopy tools): elements joined by ``-`` are in
series, ``p(a,b,...)`` puts branches in parallel, nesting to any depth; see
``circuits`` for the element types and their impedances.
"""

import re
from dataclasses import dataclass

ELEMENTS = {  # type -> ((parameter, unit), ...)
    "R": (("R", "Ohm"),),
    "C": (("C", "F"),),
    "L": (("L", "H"),),
    "CPE": (("Q", "F s^(alpha-1)"), ("alpha", "1")),
    "W": (("sigma", "Ohm s^-1/2"),),
    "Wo": (("Z0", "Ohm"), ("tau", "s")),
    "Ws": (("Z0", "Ohm"), ("tau", "s")),
}
_TYPES_LONGEST_FIRST = sorted(ELEMENTS, key=len, reverse=True)
# impedance.py's element types that this library does not implement: named in the error.
_NOT_IMPLEMENTED = {"La": "modified inductor", "Gs": "finite Gerischer", "G": "Gerischer", "K": "Voigt (RC, tau)",
                    "Zarc": "ZARC", "TLMQ": "transmission line", "T": "macrohomogeneous porous electrode"}
# Each parameter's physical support: exponents on (0, 1], everything else on (0, inf).
UNIT_INTERVAL_PARAMETERS = ("alpha",)
DEFAULT_CIRCUIT = "Rs-p(Re,Ce)"


@dataclass(frozen=True)
class Element:
    name: str
    kind: str
    position: int


@dataclass(frozen=True)
class Series:
    parts: tuple


@dataclass(frozen=True)
class Parallel:
    branches: tuple


class _Parser:
    """Recursive descent over the circuit string; errors name position and problem."""

    _TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z][A-Za-z0-9_]*)|(?P<sym>[-(),])|(?P<bad>\S))")

    def __init__(self, text):
        self.text = text
        self.tokens = []
        for m in self._TOKEN.finditer(text):
            kind = m.lastgroup
            if kind is None:
                continue
            if kind == "bad":
                self.fail(m.start("bad"), f"unexpected character {m.group('bad')!r}")
            self.tokens.append((kind, m.group(kind), m.start(kind)))
        self.i = 0

    def fail(self, position, problem):
        raise ValueError(f"circuit {self.text!r}, position {position}: {problem}")

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text))

    def take(self):
        token = self.peek()
        self.i += 1
        return token

    def parse(self):
        if not self.tokens:
            self.fail(0, "empty circuit")
        tree = self.series()
        kind, value, pos = self.peek()
        if kind is not None:
            self.fail(pos, "unexpected ')' (unbalanced parenthesis)" if value == ")" else f"unexpected {value!r}")
        return tree

    def series(self):
        parts = [self.term()]
        while self.peek()[1] == "-":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Series(tuple(parts))

    def term(self):
        kind, value, pos = self.take()
        if kind is None:
            self.fail(pos, "missing element at the end")
        if kind == "sym":
            self.fail(pos, "empty parallel branch" if value in ",)" else f"expected an element, got {value!r}")
        if value == "p" and self.peek()[1] == "(":
            return self.parallel(pos)
        if self.peek()[1] == "(":
            self.fail(self.peek()[2], f"{value!r} is not 'p': only p(...) takes parentheses")
        return Element(value, self.element_type(value, pos), pos)

    def parallel(self, pos):
        self.take()  # "("
        if self.peek()[1] == ")":
            self.fail(pos, "empty parallel group 'p()'")
        branches = [self.series()]
        while self.peek()[1] == ",":
            self.take()
            branches.append(self.series())
        kind, value, close = self.take()
        if value != ")":
            self.fail(pos, "unbalanced parenthesis: 'p(' is never closed")
        if len(branches) < 2:
            self.fail(pos, "p(...) needs at least two branches separated by ',' (one branch is not parallel)")
        return Parallel(tuple(branches))

    def element_type(self, name, pos):
        """The element type of a name: the longest type it starts with (Rs, Re, R0: R; CPE1: CPE).

        impedance.py's names are refused where this reading would differ from
        impedance.py's: its types that are not implemented here (La0 is its
        modified inductor, not an inductor) and types in the wrong case
        (Cpe1 is not a capacitor; impedance.py rejects it).
        """
        stem = re.match(r"[A-Za-z]+", name).group()
        if stem in _NOT_IMPLEMENTED and name[len(stem):].isdigit() or name in _NOT_IMPLEMENTED:
            self.fail(pos, f"element {name!r} is impedance.py's {stem} ({_NOT_IMPLEMENTED[stem]}), which "
                           f"tfp_physflow does not implement (it implements {', '.join(ELEMENTS)})")
        for kind in _TYPES_LONGEST_FIRST:
            if name.startswith(kind):
                longer = [t for t in _TYPES_LONGEST_FIRST if len(t) > len(kind) and name.upper().startswith(t.upper())]
                if longer:
                    self.fail(pos, f"element {name!r}: element types are case-sensitive; write {longer[0]!r} "
                                   f"(e.g. {longer[0] + name[len(longer[0]):]!r}) for that element, or name a "
                                   f"{kind} so that it does not read as {longer[0]}")
                return kind
        self.fail(pos, f"unknown circuit element {name!r} (known types: {', '.join(ELEMENTS)})")


def _structure(node):
    """The shape of a subcircuit without its element names: equal for interchangeable blocks."""
    if isinstance(node, Element):
        return node.kind
    return ("s" if isinstance(node, Series) else "p",
            tuple(_structure(child) for child in (node.parts if isinstance(node, Series) else node.branches)))


def _elements(tree):
    if isinstance(tree, Element):
        return [tree]
    children = tree.parts if isinstance(tree, Series) else tree.branches
    return [e for child in children for e in _elements(child)]
