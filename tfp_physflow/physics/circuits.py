"""Equivalent circuits: circuit strings -> differentiable, batched impedance.

Syntax (as in impedance-spectroscopy tools): elements joined by ``-`` are in
series, ``p(a,b,...)`` puts branches in parallel, nesting to any depth. An
element name is a type followed by an optional suffix of letters, digits or
``_`` (``R0``, ``Rs``, ``CPE_1``); the longest matching type wins (``Ws1`` is a
finite-length short Warburg, ``Wx`` a semi-infinite one).

Element types, parameters (in this order) and impedance, with omega = 2 pi f:
  R    R [Ohm]                        Z = R
  C    C [F]                          Z = 1 / (j omega C)
  L    L [H]                          Z = j omega L
  CPE  Q [F s^(alpha-1)], alpha [-]   Z = 1 / (Q (j omega)^alpha),  0 < alpha <= 1
  W    sigma [Ohm s^-1/2]             Z = sigma (1 - j) / sqrt(omega)    (semi-infinite)
  Wo   Z0 [Ohm], tau [s]              Z = Z0 coth(u) / u,  u = sqrt(j omega tau)  (finite, open)
  Ws   Z0 [Ohm], tau [s]              Z = Z0 tanh(u) / u                          (finite, short)
Every parameter is positive; CPE exponents alpha lie in (0, 1]
(``Circuit.parameter_supports``). A circuit's parameters are its elements'
parameters in order of appearance;
one-parameter elements name theirs after the element (``Rs``), others as
``name.param`` (``CPE_1.Q``, ``CPE_1.alpha``).

Interchangeable blocks: in ``R0-p(R1,CPE1)-p(R2,CPE2)`` the two arcs can
swap parameters without changing any spectrum, so "which arc is R1" is not
in the data. ``Circuit.in_order`` puts such blocks (top-level series parts
of the same structure, each holding an R and a C or CPE) in order of their
time constant, fastest first: the first arc is the one seen first, at high
frequency, in a Nyquist plot. ``fit_circuit`` and the physics-aware
generator return parameters in this order.
"""

import math

import numpy as np
import tensorflow as tf

from ..validation import check_finite_array, real_array
from .circuit_syntax import (DEFAULT_CIRCUIT, ELEMENTS, UNIT_INTERVAL_PARAMETERS, Element, Series, _elements,
                             _Parser, _structure)


class Circuit:
    """A parsed equivalent circuit.

    Attributes:
      text: the circuit string.
      parameter_names, parameter_units: in the documented order (see module doc).
      num_parameters: P.
    Example:
      >>> c = Circuit("Rs-p(Re,Ce)"); c.parameter_names
      ('Rs', 'Re', 'Ce')
      >>> z = c.impedance([[20.0, 400.0, 3e-6]], frequencies=[1.0, 1e3])  # (1, 2) complex
    """

    def __init__(self, text=DEFAULT_CIRCUIT):
        if not isinstance(text, str):
            raise ValueError(f"a circuit is a string such as {DEFAULT_CIRCUIT!r}, got {type(text).__name__}")
        self.text = text
        self.tree = _Parser(text).parse()
        self.elements = _elements(self.tree)
        seen = {}
        for e in self.elements:
            if e.name in seen:
                raise ValueError(f"circuit {text!r}, position {e.position}: duplicate element name {e.name!r} "
                                 f"(first at position {seen[e.name]})")
            seen[e.name] = e.position
        names, units, self._slices, start = [], [], {}, 0
        for e in self.elements:
            spec = ELEMENTS[e.kind]
            names += [e.name] if len(spec) == 1 else [f"{e.name}.{p}" for p, _ in spec]
            units += [u for _, u in spec]
            self._slices[e.name] = (start, start + len(spec))
            start += len(spec)
        self.parameter_names, self.parameter_units = tuple(names), tuple(units)
        self.num_parameters = len(names)
        self.interchangeable = self._interchangeable_blocks()

    def _interchangeable_blocks(self):
        """Groups of >= 2 top-level series parts of equal structure with an R and a C or CPE:
        per group, per block, its parameter indices (in the same element order)."""
        parts = self.tree.parts if isinstance(self.tree, Series) else (self.tree,)
        groups = {}
        for part in parts:
            kinds = [e.kind for e in _elements(part)]
            if "R" in kinds and ("C" in kinds or "CPE" in kinds):
                groups.setdefault(_structure(part), []).append(
                    [i for e in _elements(part) for i in range(*self._slices[e.name])])
        return tuple(tuple(blocks) for blocks in groups.values() if len(blocks) > 1)

    def _time_constant(self, params, block):
        """tau (N,) of one block: R C, or (R Q)^(1/alpha) for a CPE (its first R and C/CPE)."""
        kinds = [k for k, _ in self.parameter_kinds()]
        r = next(i for i in block if kinds[i] == "R")
        c = next(i for i in block if kinds[i] in ("C", "CPE"))
        log_tau = tf.math.log(params[:, r]) + tf.math.log(params[:, c])
        return log_tau / params[:, c + 1] if kinds[c] == "CPE" else log_tau

    def unconstrained(self, parameters):
        """NumPy (N, P) -> (N, P): log of positive parameters, logit of exponents (their real line)."""
        params = np.asarray(parameters, np.float64)
        unit = np.array([support == "unit" for support in self.parameter_supports()])
        clipped = np.where(unit, np.clip(params, 1e-12, 1 - 1e-12), np.maximum(params, 1e-300))
        return np.log(clipped) - np.where(unit, np.log1p(-np.where(unit, clipped, 0.0)), 0.0)

    def constrained(self, values):
        """Inverse of ``unconstrained``: exp, or the logistic function for exponents."""
        values = np.asarray(values, np.float64)
        unit = np.array([support == "unit" for support in self.parameter_supports()])
        return np.where(unit, 1.0 / (1.0 + np.exp(-values)), np.exp(values))

    def in_order(self, parameters):
        """``parameters`` (N, P) with interchangeable blocks sorted by time constant, fastest first.

        The spectra are unchanged; only which block carries which label. A
        circuit without interchangeable blocks returns its input. NumPy in,
        NumPy out; tensors stay tensors (differentiable almost everywhere).
        Example:
          >>> c = Circuit("R0-p(R1,C1)-p(R2,C2)")
          >>> c.in_order(np.array([[1.0, 10.0, 1e-3, 10.0, 1e-6]]))  # tau 1e-2 then 1e-5: swapped
          array([[1.e+00, 1.e+01, 1.e-06, 1.e+01, 1.e-03]])
        """
        if not self.interchangeable:
            return parameters
        params = tf.convert_to_tensor(real_array(parameters, "parameters"))
        index = np.arange(self.num_parameters)
        order = tf.tile(tf.constant(index)[None], [tf.shape(params)[0], 1])
        for blocks in self.interchangeable:
            blocks = np.array(blocks)  # (m, size)
            rank = tf.argsort(tf.stack([self._time_constant(params, b) for b in blocks], axis=1), axis=1)
            source = tf.gather(tf.constant(blocks), rank)  # (N, m, size): block j takes the rank-j block
            columns = tf.reshape(source, [-1, blocks.size])
            updates = [order[:, i] if i not in blocks else None for i in index]
            for j, i in enumerate(blocks.reshape(-1)):
                updates[i] = tf.cast(columns[:, j], order.dtype)
            order = tf.stack(updates, axis=1)
        result = tf.gather(params, order, batch_dims=1)
        return result.numpy() if isinstance(parameters, np.ndarray) else result

    def __repr__(self):
        return f"Circuit({self.text!r})"

    def parameters_of(self, element):
        """The parameter names of one element (by its name, e.g. "CPE1"), in order."""
        return self.parameter_names[slice(*self._slices[element])]

    def parameter_supports(self):
        """For each parameter, "unit" (on (0, 1]: CPE alpha) or "positive" (on (0, inf))."""
        return tuple("unit" if p in UNIT_INTERVAL_PARAMETERS else "positive" for _, p in self.parameter_kinds())

    def parameter_kinds(self):
        """For each parameter, its element type and parameter name, e.g. ('CPE', 'alpha')."""
        return tuple((e.kind, p) for e in self.elements for p, _ in ELEMENTS[e.kind])

    def impedance(self, parameters, frequencies):
        """Complex impedance Z(omega) for a batch of parameter vectors.

        Args:
          parameters: (N, P) real, positive, in ``parameter_names`` order;
            float32 gives complex64, float64 complex128.
          frequencies: (K,) in Hz, positive and finite.
        Returns:
          complex tensor (N, K), differentiable with respect to ``parameters``.
        """
        params = tf.convert_to_tensor(real_array(parameters, "parameters"))
        if not params.dtype.is_floating:
            params = tf.cast(params, tf.float32)
        if params.shape.rank != 2 or params.shape[-1] not in (None, self.num_parameters):
            raise ValueError(f"parameters must have shape (N, {self.num_parameters}) for {self.text!r} "
                             f"{self.parameter_names}, got {tuple(params.shape)}")
        if hasattr(params, "numpy"):
            values = params.numpy()
            check_finite_array(values, "parameters")
            if (values <= 0).any():
                col = int(np.argwhere(values <= 0)[0, 1])
                raise ValueError(f"circuit parameters must be positive: {self.parameter_names[col]} has "
                                 f"{int((values[:, col] <= 0).sum())} values <= 0")
        omega = 2.0 * math.pi * tf.cast(check_frequencies(frequencies), params.dtype)
        return self._evaluate(self.tree, params, omega)

    def _evaluate(self, node, params, omega):
        if isinstance(node, Element):
            lo, hi = self._slices[node.name]
            return _element_impedance(node.kind, [params[:, i:i + 1] for i in range(lo, hi)], omega[None, :])
        if isinstance(node, Series):
            return tf.add_n([self._evaluate(p, params, omega) for p in node.parts])
        admittance = tf.add_n([1.0 / self._evaluate(b, params, omega) for b in node.branches])
        return 1.0 / admittance


def check_frequencies(frequencies):
    """Frequencies (K,) in Hz as float64 numpy; ValueError if not positive and finite."""
    f = np.asarray(real_array(frequencies, "frequencies"), dtype=np.float64)
    if f.ndim != 1 or f.size == 0:
        raise ValueError(f"frequencies must be a non-empty 1-D array, got shape {f.shape}")
    check_finite_array(f, "frequencies")
    if (f <= 0).any():
        raise ValueError(f"frequencies must be positive (Hz): {int((f <= 0).sum())} are <= 0, "
                         f"e.g. {f[f <= 0][0]}")
    return f


def _complex(real, imag):
    return tf.complex(real, imag)


def _stable_tanh_of_sqrt_j(r):
    """tanh(u) for u = r (1 + j), r >= 0, finite for every r.

    tanh(a + jb) = (sinh 2a + j sin 2b) / (cosh 2a + cos 2b); dividing by
    cosh 2a (computed through exp(-2a), which cannot overflow) keeps large
    omega*tau finite where the textbook form gives inf/inf.
    """
    sech = 2.0 * tf.exp(-2.0 * r) / (1.0 + tf.exp(-4.0 * r))
    denom = 1.0 + tf.cos(2.0 * r) * sech
    return _complex(tf.tanh(2.0 * r) / denom, tf.sin(2.0 * r) * sech / denom)


def _element_impedance(kind, p, omega):
    zero = tf.zeros_like(omega * p[0])
    if kind == "R":
        return _complex(p[0] + zero, zero)
    if kind == "C":
        return _complex(zero, -1.0 / (omega * p[0]))
    if kind == "L":
        return _complex(zero, omega * p[0])
    if kind == "CPE":
        q, alpha = p
        mag = 1.0 / (q * tf.pow(omega, alpha))  # |Z|, phase -alpha pi/2
        return _complex(mag * tf.cos(alpha * math.pi / 2), -mag * tf.sin(alpha * math.pi / 2))
    if kind == "W":
        s = p[0] / tf.sqrt(omega)
        return _complex(s, -s)
    z0, tau = p
    r = tf.sqrt(omega * tau / 2.0)  # u = sqrt(j omega tau) = r (1 + j)
    u = _complex(r, r)
    t = _stable_tanh_of_sqrt_j(r)
    z0 = _complex(z0 + zero, zero)
    return z0 * t / u if kind == "Ws" else z0 / (u * t)
