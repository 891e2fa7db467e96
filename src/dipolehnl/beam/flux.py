"""T2K neutrino fluxes at ND280: tabulated beam fluxes, the kaon component, flux errors.

Units
-----
Energies in GeV.  Flux densities in neutrinos per cm^2 per GeV per POT.

The T2K tables give, for every energy bin, the flux *density normalised to a 50 MeV
bin* (whatever the actual bin width) per 10^21 POT.  The conversion is therefore::

    density [cm^-2 GeV^-1 POT^-1] = value [cm^-2 (50 MeV)^-1 (1e21 POT)^-1] * 20 / 1e21

and the number of neutrinos per cm^2 per POT in a bin is ``density * width_GeV``.
The bins are 10 MeV wide up to 0.8 GeV, then 20, 50, 100, 200, 500 and 1000 MeV.

Data files live in ``dipolehnl/beam/data`` (provenance in the README there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.errors import InputError

#: Conversion of a T2K table value (per 50 MeV per 1e21 POT) to per GeV per POT.
T2K_TABLE_TO_PER_GEV_PER_POT: float = 20.0 / 1.0e21

#: Flavours of a :class:`BeamFlux`, in the column order of the T2K tables.
FLAVORS: tuple[str, ...] = ("numu", "numubar", "nue", "nuebar")

_FLAVOR_ALIASES: dict[str, str] = {
    "numu": "numu",
    "nu_mu": "numu",
    "14": "numu",
    "numubar": "numubar",
    "anti-numu": "numubar",
    "antinumu": "numubar",
    "nu_mu_bar": "numubar",
    "-14": "numubar",
    "nue": "nue",
    "nu_e": "nue",
    "12": "nue",
    "nuebar": "nuebar",
    "anti-nue": "nuebar",
    "antinue": "nuebar",
    "nu_e_bar": "nuebar",
    "-12": "nuebar",
}

MODES: tuple[str, ...] = ("fhc", "rhc")

_FLUX_FILES: dict[str, str] = {
    "fhc": "t2k_nd280_fhc_plus250kA_2020.txt",
    "rhc": "t2k_nd280_rhc_minus250kA.txt",
}
_KAON_FILE = "t2k_nd280_numu_from_kaons_log10.txt"
_KAON_RATIO_FILE = "t2k_nd280_kaon_rhc_to_fhc_ratio.txt"
_ERROR_FILE = "t2k_nd280_numu_flux_fractional_error.txt"


def _data_text(name: str) -> str:
    return (files("dipolehnl") / "beam" / "data" / name).read_text()


def _readonly(a: ArrayLike) -> NDArray[np.float64]:
    out = np.array(a, dtype=float)  # always a copy
    out.setflags(write=False)
    return out


def check_mode(mode: str) -> str:
    """Return the normalised beam mode ('fhc' or 'rhc'); anything else raises InputError."""
    m = str(mode).strip().lower()
    if m not in MODES:
        raise InputError(f"unknown beam mode {mode!r}: expected one of {', '.join(MODES)}")
    return m


# ---------------------------------------------------------------------------------------
# Piecewise-constant flux component
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FluxComponent:
    """A piecewise-constant flux density phi(E).

    Attributes
    ----------
    edges_GeV: bin edges, shape (n+1,), strictly increasing, GeV.
    density_per_cm2_GeV_POT: flux density in every bin, shape (n,), neutrinos per cm^2
        per GeV per POT (constant inside a bin, zero outside [edges[0], edges[-1])).
    flavor: 'numu', 'numubar', 'nue', 'nuebar' or a free label.
    mode: beam mode the component belongs to ('fhc', 'rhc' or a free label).
    """

    edges_GeV: NDArray[np.float64]
    density_per_cm2_GeV_POT: NDArray[np.float64]
    flavor: str = ""
    mode: str = ""

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges_GeV, dtype=float)
        dens = np.asarray(self.density_per_cm2_GeV_POT, dtype=float)
        if edges.ndim != 1 or dens.ndim != 1 or edges.size != dens.size + 1 or dens.size == 0:
            raise InputError(
                f"flux component needs n+1 edges for n>=1 densities, got {edges.size} edges and {dens.size} densities"
            )
        if not (np.all(np.isfinite(edges)) and np.all(np.isfinite(dens))):
            raise InputError("flux component: edges and densities must be finite")
        if np.any(np.diff(edges) <= 0):
            raise InputError("flux component: bin edges must be strictly increasing")
        if np.any(dens < 0):
            raise InputError("flux component: negative flux density")
        object.__setattr__(self, "edges_GeV", _readonly(edges))
        object.__setattr__(self, "density_per_cm2_GeV_POT", _readonly(dens))

    # -- basic properties ---------------------------------------------------------------
    @property
    def widths_GeV(self) -> NDArray[np.float64]:
        """Bin widths, GeV."""
        return np.diff(self.edges_GeV)

    @property
    def centers_GeV(self) -> NDArray[np.float64]:
        """Bin centres, GeV."""
        return 0.5 * (self.edges_GeV[1:] + self.edges_GeV[:-1])

    @property
    def bin_content_per_cm2_POT(self) -> NDArray[np.float64]:
        """Neutrinos per cm^2 per POT in every bin: density x width."""
        return self.density_per_cm2_GeV_POT * self.widths_GeV

    @property
    def max_energy_GeV(self) -> float:
        """Upper edge of the highest bin with non-zero flux (GeV); the lowest edge if all are zero."""
        nz = np.nonzero(self.density_per_cm2_GeV_POT > 0)[0]
        return float(self.edges_GeV[nz[-1] + 1]) if nz.size else float(self.edges_GeV[0])

    # -- evaluation ---------------------------------------------------------------------
    def __call__(self, E_GeV: ArrayLike) -> NDArray[np.float64] | float:
        """Flux density at energy E (GeV), per cm^2 per GeV per POT; 0 outside [edges[0], edges[-1]).

        Bins are half-open [lo, hi).  Scalars in, float out; arrays in, arrays out.
        """
        E = np.asarray(E_GeV, dtype=float)
        idx = np.searchsorted(self.edges_GeV, E, side="right") - 1
        inside = (idx >= 0) & (idx < self.density_per_cm2_GeV_POT.size)
        out = np.where(
            inside, self.density_per_cm2_GeV_POT[np.clip(idx, 0, self.density_per_cm2_GeV_POT.size - 1)], 0.0
        )
        return float(out) if out.ndim == 0 else out

    def integral(self, emin: float | None = None, emax: float | None = None) -> float:
        """Integrated flux in neutrinos per cm^2 per POT: int_emin^emax phi(E) dE.

        ``emin``/``emax`` default to the table range; partial bins are counted pro rata.
        """
        lo = self.edges_GeV[:-1]
        hi = self.edges_GeV[1:]
        a = lo[0] if emin is None else float(emin)
        b = hi[-1] if emax is None else float(emax)
        if b <= a:
            return 0.0
        overlap = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
        return float(np.sum(self.density_per_cm2_GeV_POT * overlap))

    def mean_energy(self) -> float:
        """Flux-weighted mean energy (GeV): int E phi dE / int phi dE = sum phi_i (hi^2-lo^2)/2 / sum phi_i (hi-lo)."""
        lo = self.edges_GeV[:-1]
        hi = self.edges_GeV[1:]
        total = self.integral()
        if total <= 0:
            raise InputError("mean energy of a flux component with zero total flux")
        return float(np.sum(self.density_per_cm2_GeV_POT * 0.5 * (hi**2 - lo**2)) / total)

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """Draw ``n`` energies (GeV) distributed as phi(E), by the exact inverse CDF.

        The CDF is piecewise linear: F(E) = [C_{i-1} + phi_i (E - lo_i)] / C_n in bin i,
        with C_i the cumulative bin contents; bins with zero flux are never drawn.
        """
        n = int(n)
        if n < 0:
            raise InputError(f"number of samples must be >= 0, got {n}")
        w = self.bin_content_per_cm2_POT
        total = float(w.sum())
        if total <= 0:
            raise InputError("cannot sample a flux component with zero total flux")
        cum = np.cumsum(w) / total  # upper CDF value of every bin
        u = rng.random(n)
        idx = np.minimum(np.searchsorted(cum, u, side="right"), w.size - 1)
        lower = np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0)
        frac = (u - lower) / (w[idx] / total)
        frac = np.clip(frac, 0.0, 1.0)
        return self.edges_GeV[idx] + frac * self.widths_GeV[idx]

    def restricted(self, emin: float, emax: float | None = None) -> FluxComponent:
        """The flux restricted to [emin, emax] (GeV): the bins containing the bounds are split.

        Raises InputError if the window does not overlap the table range.
        """
        e0, e1 = float(self.edges_GeV[0]), float(self.edges_GeV[-1])
        a = max(float(emin), e0)
        b = e1 if emax is None else min(float(emax), e1)
        if not b > a:
            raise InputError(f"energy window [{emin}, {emax}] GeV does not overlap the flux range [{e0}, {e1}] GeV")
        inner = self.edges_GeV[(self.edges_GeV > a) & (self.edges_GeV < b)]
        edges = np.concatenate([[a], inner, [b]])
        centres = 0.5 * (edges[1:] + edges[:-1])
        return FluxComponent(edges, np.asarray(self(centres)), flavor=self.flavor, mode=self.mode)

    def scaled(self, factor: float) -> FluxComponent:
        """The same component multiplied by a non-negative factor (e.g. 1 +- fractional error)."""
        return FluxComponent(self.edges_GeV, self.density_per_cm2_GeV_POT * float(factor), self.flavor, self.mode)


# ---------------------------------------------------------------------------------------
# Beam flux (four flavours)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BeamFlux:
    """The four flux components (numu, numubar, nue, nuebar) of one beam mode at ND280.

    Attributes
    ----------
    mode: 'fhc' (neutrino mode, +250 kA), 'rhc' (antineutrino mode, -250 kA), or a label.
    components: flavour -> :class:`FluxComponent`, all on the same bin edges.
    source: where the table came from (file name), for provenance.
    """

    mode: str
    components: Mapping[str, FluxComponent]
    source: str = ""

    def component(self, flavor: str | int) -> FluxComponent:
        """The component of a flavour: 'numu', 'numubar' (or 'anti-numu'), 'nue', 'nuebar',
        or a PDG code (14, -14, 12, -12)."""
        key = _FLAVOR_ALIASES.get(str(flavor).strip().lower())
        if key is None or key not in self.components:
            raise InputError(f"unknown neutrino flavour {flavor!r}: expected one of {', '.join(FLAVORS)}")
        return self.components[key]

    def __getitem__(self, flavor: str | int) -> FluxComponent:
        return self.component(flavor)

    @property
    def flavors(self) -> tuple[str, ...]:
        return tuple(self.components)

    @property
    def edges_GeV(self) -> NDArray[np.float64]:
        """Common bin edges (GeV)."""
        return next(iter(self.components.values())).edges_GeV

    @property
    def max_energy_GeV(self) -> float:
        """Highest energy with non-zero flux in any component (upper edge of that bin), GeV."""
        return max(c.max_energy_GeV for c in self.components.values())


def _parse_t2k_table(text: str, source: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Parse a T2K flux table; return (edges in GeV, raw values of shape (n, 4)).

    Format: optional header lines ended by a line of dashes; then one line per bin
    ``bin#  lo - hi  numu  numubar  nue  nuebar``.  Blank lines and lines starting
    with '#' are ignored anywhere.
    """
    lines = text.splitlines()
    start = 0
    for i, line in enumerate(lines):
        s = line.strip()
        if s and set(s) == {"-"} and len(s) >= 3:
            start = i + 1
            break
    los: list[float] = []
    his: list[float] = []
    vals: list[list[float]] = []
    for lineno, line in enumerate(lines[start:], start=start + 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        tok = s.split()
        if len(tok) != 8 or tok[2] != "-":
            raise InputError(
                f"{source}:{lineno}: expected 8 columns 'bin  lo - hi  numu numubar nue nuebar', got {len(tok)}: {s!r}"
            )
        try:
            int(tok[0])
        except ValueError:
            raise InputError(f"{source}:{lineno}: bin number {tok[0]!r} is not an integer") from None
        try:
            nums = [float(t) for t in (tok[1], tok[3], *tok[4:])]
        except ValueError:
            raise InputError(f"{source}:{lineno}: non-numeric value in {s!r}") from None
        if not all(math.isfinite(x) for x in nums):
            raise InputError(f"{source}:{lineno}: non-finite value in {s!r}")
        lo, hi, *v = nums
        if not hi > lo:
            raise InputError(f"{source}:{lineno}: bin upper edge {hi} is not above its lower edge {lo}")
        if los and not math.isclose(lo, his[-1], rel_tol=1e-9, abs_tol=1e-12):
            raise InputError(
                f"{source}:{lineno}: bins are not contiguous "
                f"(bin starts at {lo} GeV, previous bin ended at {his[-1]} GeV)"
            )
        if any(x < 0 for x in v):
            raise InputError(f"{source}:{lineno}: negative flux value in {s!r}")
        los.append(lo)
        his.append(hi)
        vals.append(v)
    if not vals:
        raise InputError(f"{source}: no flux bins found")
    edges = np.array(los + [his[-1]], dtype=float)
    return edges, np.array(vals, dtype=float)


def _beam_flux_from_table(edges: NDArray[np.float64], raw: NDArray[np.float64], mode: str, source: str) -> BeamFlux:
    comps = {
        fl: FluxComponent(edges, raw[:, j] * T2K_TABLE_TO_PER_GEV_PER_POT, flavor=fl, mode=mode)
        for j, fl in enumerate(FLAVORS)
    }
    return BeamFlux(mode=mode, components=comps, source=source)


def _parse_bins_table(text: str, source: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rows ``E_lo_GeV E_hi_GeV value`` (contiguous bins, ``#`` comments) → (edges, values (n, 1))."""
    from dipolehnl.io import numeric_rows

    rows: list[list[float]] = []
    for lineno, s, vals in numeric_rows(text, source):
        if len(vals) != 3 or not all(math.isfinite(v) for v in vals):
            raise InputError(f"{source}:{lineno}: expected 'E_lo_GeV E_hi_GeV value', got {s!r}")
        if rows and not math.isclose(vals[0], rows[-1][1], rel_tol=1e-9, abs_tol=1e-12):
            raise InputError(f"{source}:{lineno}: bins are not contiguous")
        rows.append(vals)
    if not rows:
        raise InputError(f"{source}: no flux bins found")
    a = np.array(rows)
    return np.concatenate([a[:, 0], a[-1:, 1]]), a[:, 2:3]


def read_flux_file(path: str | Path, fmt: str = "t2k") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(edges GeV, raw values) of a user flux file in format ``fmt``: "t2k" (the T2K release
    table, :func:`_parse_t2k_table`; values (n, 4)), "bnb" (the Booster Neutrino Beam table,
    :func:`dipolehnl.beam.bnb.parse_bnb_table`) or "bins" (rows ``E_lo_GeV E_hi_GeV
    value``; values (n, 1)).  The one reader of flux files (experiment files and
    ``--flux-file``): files above ``bounds.MAX_FLUX_FILE_BYTES`` or with more than
    ``bounds.MAX_FLUX_BINS`` bins are refused (InputError) before or right after parsing."""
    from dipolehnl.bounds import MAX_FLUX_BINS, MAX_FLUX_FILE_BYTES
    from dipolehnl.io import read_user_text

    p = Path(path)
    text = read_user_text(p, "flux file", max_bytes=MAX_FLUX_FILE_BYTES)
    n_lines = text.count("\n")
    if n_lines > MAX_FLUX_BINS + 100:  # cheap pre-check before parsing; exact count below
        raise InputError(
            f"flux file {p}: {n_lines} lines, more than the limit of {MAX_FLUX_BINS:,} bins (docs/robustness.md)"
        )
    if fmt == "t2k":
        edges, raw = _parse_t2k_table(text, str(p))
    elif fmt == "bnb":
        from dipolehnl.beam.bnb import parse_bnb_table

        edges, raw = parse_bnb_table(text, str(p))
    else:
        edges, raw = _parse_bins_table(text, str(p))
    if raw.shape[0] > MAX_FLUX_BINS:
        raise InputError(
            f"flux file {p}: {raw.shape[0]} bins, more than the limit of {MAX_FLUX_BINS:,} (docs/robustness.md)"
        )
    return edges, raw


def read_flux_table(path: str | Path, mode: str = "custom") -> BeamFlux:
    """Read a user flux file in the T2K format (see :func:`_parse_t2k_table`).

    Values must be per cm^2 per 50 MeV per 1e21 POT (densities normalised to 50 MeV);
    they are converted to per cm^2 per GeV per POT.  Invalid files raise InputError
    naming the file and line; the size limits of :func:`read_flux_file` apply.
    """
    edges, raw = read_flux_file(path, "t2k")
    return _beam_flux_from_table(edges, raw, mode, str(Path(path)))


@cache
def _load_flux_cached(mode: str) -> BeamFlux:
    name = _FLUX_FILES[mode]
    edges, raw = _parse_t2k_table(_data_text(name), name)
    return _beam_flux_from_table(edges, raw, mode, name)


def load_flux(mode: str) -> BeamFlux:
    """The shipped T2K flux at ND280 for ``mode`` 'fhc' (+250 kA, 2020 release) or 'rhc' (-250 kA)."""
    return _load_flux_cached(check_mode(mode))


# ---------------------------------------------------------------------------------------
# Kaon component
# ---------------------------------------------------------------------------------------
def _two_columns(text: str, source: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xs: list[float] = []
    ys: list[float] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        tok = s.split()
        if len(tok) != 2:
            raise InputError(f"{source}:{lineno}: expected 2 columns, got {len(tok)}")
        try:
            xs.append(float(tok[0]))
            ys.append(float(tok[1]))
        except ValueError:
            raise InputError(f"{source}:{lineno}: non-numeric value in {s!r}") from None
    x = np.array(xs)
    y = np.array(ys)
    if x.size < 2 or np.any(np.diff(x) <= 0):
        raise InputError(f"{source}: need at least two points with strictly increasing energies")
    return x, y


# Gauss-Legendre nodes for the segment-wise integration of the kaon flux.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)


@dataclass(frozen=True)
class KaonFlux:
    """The numu flux at ND280 from kaon decays (callable density, GeV -> per cm^2 per GeV per POT).

    FHC: log10 of the density is linear in E between the tabulated points, zero outside
    [E_GeV[0], E_GeV[-1]].  RHC: the FHC density times the RHC/FHC ratio, which is
    linearly interpolated and held constant beyond the ends of its table.

    Attributes
    ----------
    mode: 'fhc' or 'rhc'.
    E_GeV: the tabulated energies (GeV), for plotting.
    density_per_cm2_GeV_POT: the density at ``E_GeV`` (for RHC including the ratio).
    """

    mode: str
    E_GeV: NDArray[np.float64]
    density_per_cm2_GeV_POT: NDArray[np.float64]
    _log10_fhc_table: NDArray[np.float64] = field(repr=False)
    _ratio_E_GeV: NDArray[np.float64] | None = field(default=None, repr=False)
    _ratio: NDArray[np.float64] | None = field(default=None, repr=False)

    def ratio(self, E_GeV: ArrayLike) -> NDArray[np.float64]:
        """The factor applied to the FHC density at E: 1 for FHC, the interpolated RHC/FHC ratio for RHC."""
        E = np.asarray(E_GeV, dtype=float)
        if self._ratio_E_GeV is None or self._ratio is None:
            return np.ones_like(E)
        return np.interp(E, self._ratio_E_GeV, self._ratio)

    def __call__(self, E_GeV: ArrayLike) -> NDArray[np.float64] | float:
        """Density at E (GeV), neutrinos per cm^2 per GeV per POT: 10**interp(E, log10 table) * 20/1e21 [* ratio]."""
        E = np.asarray(E_GeV, dtype=float)
        inside = (E >= self.E_GeV[0]) & (E <= self.E_GeV[-1])
        log10_val = np.interp(E, self.E_GeV, self._log10_fhc_table)
        out = np.where(inside, 10.0**log10_val * T2K_TABLE_TO_PER_GEV_PER_POT, 0.0) * self.ratio(E)
        return float(out) if out.ndim == 0 else out

    def _nodes(self, emin: float, emax: float) -> NDArray[np.float64]:
        pts = [self.E_GeV]
        if self._ratio_E_GeV is not None:
            pts.append(self._ratio_E_GeV)
        allp = np.unique(np.concatenate(pts + [np.array([emin, emax])]))
        return allp[(allp >= emin) & (allp <= emax)]

    def integral(self, emin: float | None = None, emax: float | None = None) -> float:
        """int phi(E) dE over [emin, emax] (default: the whole table), per cm^2 per POT.

        Gauss-Legendre (12 points) on every interval between table nodes, where the
        integrand is smooth (exponential in E, times a linear ratio).
        """
        a = float(self.E_GeV[0]) if emin is None else max(float(emin), float(self.E_GeV[0]))
        b = float(self.E_GeV[-1]) if emax is None else min(float(emax), float(self.E_GeV[-1]))
        if b <= a:
            return 0.0
        nodes = self._nodes(a, b)
        lo, hi = nodes[:-1, None], nodes[1:, None]
        x = 0.5 * (hi - lo) * _GL_X[None, :] + 0.5 * (hi + lo)
        return float(np.sum(0.5 * (hi - lo) * _GL_W[None, :] * np.asarray(self(x))))

    def binned(self, edges_GeV: ArrayLike) -> FluxComponent:
        """A piecewise-constant :class:`FluxComponent` with the bin averages of this flux."""
        edges = np.asarray(edges_GeV, dtype=float)
        dens = np.array([self.integral(lo, hi) / (hi - lo) for lo, hi in zip(edges[:-1], edges[1:])])
        return FluxComponent(edges, dens, flavor="numu (kaons)", mode=self.mode)


@cache
def _kaon_tables() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    E, logv = _two_columns(_data_text(_KAON_FILE), _KAON_FILE)
    Er, r = _two_columns(_data_text(_KAON_RATIO_FILE), _KAON_RATIO_FILE)
    return E, logv, Er, r


def kaon_numu_flux(mode: str) -> KaonFlux:
    """The numu flux from kaon decays at ND280 for 'fhc' or 'rhc' (see :class:`KaonFlux`)."""
    m = check_mode(mode)
    E, logv, Er, r = _kaon_tables()
    fhc_points = 10.0**logv * T2K_TABLE_TO_PER_GEV_PER_POT
    if m == "fhc":
        return KaonFlux("fhc", _readonly(E), _readonly(fhc_points), _readonly(logv))
    return KaonFlux(
        "rhc", _readonly(E), _readonly(fhc_points * np.interp(E, Er, r)), _readonly(logv), _readonly(Er), _readonly(r)
    )


# ---------------------------------------------------------------------------------------
# Flux uncertainty
# ---------------------------------------------------------------------------------------
@cache
def _error_table() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    E, f = _two_columns(_data_text(_ERROR_FILE), _ERROR_FILE)
    return _readonly(E), _readonly(f)


def flux_fractional_error(E_GeV: ArrayLike) -> NDArray[np.float64] | float:
    """Fractional 1-sigma uncertainty of the numu flux at E (GeV).

    Linear interpolation of the digitised T2K curve, held constant beyond its ends
    (0.084-2.26 GeV); values are 0.11-0.16.
    """
    E_tab, f_tab = _error_table()
    out = np.interp(np.asarray(E_GeV, dtype=float), E_tab, f_tab)
    return float(out) if np.ndim(out) == 0 else out


def flux_error_table() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The tabulated (E in GeV, fractional error) points, for plotting."""
    return _error_table()
