"""Synthetic face descriptors for search benchmarks and tests: identities, and faces of them.

Two shapes:
- `dlib_like` (default): shaped like real dlib descriptors. Fitted to the 98 faces rekcli
  finds in ../shared/faces (benchmarks/real_descriptors.py): norms ~1.43 around a common
  mean direction (|mean| 1.32); the spread of faces around it has a covariance whose
  eigenvalues fall off like a power law (k^-1.46, top 0.205); 98 faces understate the
  small directions (Ledoit-Wolf says shrink by 0.15), so the covariance is shrunk towards
  isotropic by as much as makes two different people as far apart as in the real photos
  (5th/50th/95th percentile real 0.73/0.85/0.98; fit 0.73/0.84/1.00 at 0.5, parametric
  0.72/0.83/1.00 at 0.7), and two photos of one person 0.36 apart (real median 0.369). `fit(real)` uses the real
  covariance itself; `parametric()` rebuilds its shape from those constants alone (tests
  use it: no photos, no dlib).
- `isotropic`: the worst case of ../shared/reference/vector-search.md - identities spread
  evenly in all 128 directions around one cone axis (unit vectors, same 0.40 / diff 1.04).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAME_MEDIAN = 0.369
DIFFERENT_MEDIAN = 0.854
MEAN_NORM = 1.32
SPECTRUM_TOP, SPECTRUM_SLOPE = 0.205, -1.46
SHRINK_FIT, SHRINK_PARAMETRIC = 0.5, 0.7


@dataclass
class FaceModel:
    mean: np.ndarray          # (128,)
    between: np.ndarray       # (128, 128): identity centre = mean + z @ between
    within: np.ndarray        # (128, 128): face = centre + z @ within
    unit: bool = False        # isotropic model: normalise every vector

    def identities(self, rng, count: int) -> np.ndarray:
        z = rng.standard_normal((count, 128))
        return self._finish(self.mean + z @ self.between)

    def faces(self, rng, centres: np.ndarray) -> np.ndarray:
        z = rng.standard_normal(centres.shape)
        return self._finish(centres + z @ self.within).astype(np.float32)

    def _finish(self, x):
        if self.unit:
            x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return x


def _shape_from_covariance(cov: np.ndarray) -> np.ndarray:
    """A matrix A with A.T @ A = cov (rows of z @ A then have that covariance)."""
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.sqrt(np.maximum(values, 0))).T


def _calibrated(mean, cov) -> FaceModel:
    """Split `cov` (the spread of faces) into identities and photos of one identity with
    the real same/different distances: E|a-b|^2 = 2 tr(within) for two photos of one
    person, 2 (tr(between) + tr(within)) for two people."""
    within_trace = SAME_MEDIAN ** 2 / 2
    total_trace = DIFFERENT_MEDIAN ** 2 / 2
    shape = cov / np.trace(cov)
    between = _shape_from_covariance(shape * (total_trace - within_trace))
    # Half shaped like faces vary, half even in every direction (lighting, noise).
    within_cov = within_trace * (0.5 * shape + 0.5 * np.eye(128) / 128)
    return FaceModel(mean, between, _shape_from_covariance(within_cov))


def _shrunk(cov: np.ndarray, shrink: float) -> np.ndarray:
    return (1 - shrink) * cov + shrink * np.trace(cov) / 128 * np.eye(128)


def fit(real_descriptors: np.ndarray) -> FaceModel:
    """dlib-like model from real descriptors (their mean and shrunk covariance)."""
    x = np.asarray(real_descriptors, dtype=np.float64)
    return _calibrated(x.mean(axis=0), _shrunk(np.cov(x.T), SHRINK_FIT))


def parametric(seed: int = 1234) -> FaceModel:
    """dlib-like model from the fitted constants alone (random axes)."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.standard_normal((128, 128)))
    values = SPECTRUM_TOP * np.arange(1, 129, dtype=np.float64) ** SPECTRUM_SLOPE
    cov = _shrunk((axes * values) @ axes.T, SHRINK_PARAMETRIC)
    mean = axes[:, -1] * MEAN_NORM  # the mean lies off the main axes of variation
    return _calibrated(mean, cov)


def isotropic(seed: int = 1234) -> FaceModel:
    """The vector-search.md worst case: unit identity centres around one cone axis."""
    rng = np.random.default_rng(seed)
    axis = rng.standard_normal(128)
    axis /= np.linalg.norm(axis)
    return FaceModel(axis, np.eye(128) / np.sqrt(128), np.eye(128) * 0.026, unit=True)


def collection(model: FaceModel, rng, n: int, faces_per_identity: float = 5.0):
    """(n descriptors, identity of each, identity centres): ~faces_per_identity faces
    per identity (Poisson-like: each face picks a random identity)."""
    centres = model.identities(rng, max(1, int(n / faces_per_identity)))
    who = rng.integers(0, centres.shape[0], n)
    out = np.empty((n, 128), dtype=np.float32)
    for start in range(0, n, 262144):
        out[start:start + 262144] = model.faces(rng, centres[who[start:start + 262144]])
    return out, who, centres


def probes(model: FaceModel, rng, centres, who, count: int):
    """New photos of the identities of `count` random stored faces (each has matches)."""
    chosen = who[rng.integers(0, who.size, count)]
    return model.faces(rng, centres[chosen]), chosen
