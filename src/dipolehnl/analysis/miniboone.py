"""MiniBooNE building blocks: the 2020 data release, the collaboration's chi^2, the
sterile-oscillation component, the cos(theta) fit, and single-photon shower reconstruction.

Self-contained pieces for the MiniBooNE excess fit (issue 10); the experiment file, the
``single_photon`` selection channel and ``miniboone-fit`` wire them together.  Package data
live in ``dipolehnl/experiments/data/miniboone/`` (provenance in the README of every folder).

Units: energies in GeV unless a name says MeV; lengths in m unless a name says cm;
densities in g/cm^3; radiation lengths in g/cm^2; Delta m^2 in eV^2.  Beam along +z,
origin at the centre of the oil sphere.

Formulas (one place each)
-------------------------
* Oscillation (two-flavour, short baseline)::

      P(nu_mu -> nu_e) = sin^2(2 theta_mue) sin^2(1.267 Delta m^2[eV^2] L[km] / E[GeV])

  and the prediction in reconstructed-E bin i is  N_i = sum_{k in i} w_k P(L_k, E_k) / N_rows
  over the release's full-transmutation ntuple (columns E_reco [MeV], E_true [MeV],
  L [cm], w) -- the normalisation the release documents and public fits use.
* chi^2 of the E_nu^QE fit (collaboration's recipe, arXiv:2006.16883 data release):
  prediction vector p = (s, b, m) of the 11 nu_e "signal" bins, 11 nu_e background bins and
  8 nu_mu bins; M_ij = F_ij p_i p_j with F the 30x30 fractional covariance; the statistical
  variance is added on the diagonal (``stat`` below); collapse with the 19x30 matrix
  P (nu_e bin i <- signal i + background i; nu_mu bin j <- nu_mu j):  C = P M P^T;
  Delta = (d_e - s - b, d_mu - m);  chi^2 = Delta^T C^-1 Delta.
* CCQE energy of an electron-like shower (MiniBooNE, PRL 100, 032301 (2008),
  arXiv:0706.0926, eq. 1; nu_e analyses arXiv:0704.1500 and arXiv:2006.16883)::

      E_nu^QE = [2 (M_n - E_B) E_l - ((M_n - E_B)^2 + m_l^2 - M_p^2)]
                / [2 (M_n - E_B - E_l + p_l cos theta)]

  with E_B = 34 MeV in neutrino mode; in antineutrino mode M_n and M_p swap and
  E_B = 30 MeV (MiniBooNE, PRD 88, 032001 (2013), arXiv:1301.7067).
* Radiation length (Y. S. Tsai, Rev. Mod. Phys. 46, 815 (1974); PDG Review "Passage of
  particles through matter", eq. 34.26)::

      1/X0 = 4 alpha r_e^2 N_A / A {Z^2 [L_rad - f(Z)] + Z L'_rad},
      1/X0(mixture) = sum_i w_i / X0_i

  and the high-energy photon pair-conversion mean free path lambda = (9/7) X0 (PDG eq. 34.32).
* Shower-energy resolution  sigma_E / E = a / sqrt(E[GeV]) (+) c  (quadrature).
"""

from __future__ import annotations

import gzip
import io
import math
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dipolehnl.constants import ALPHA_EM, M_E_GEV, M_PROTON_GEV
from dipolehnl.errors import InputError

if TYPE_CHECKING:
    from importlib.abc import Traversable

# ---------------------------------------------------------------------------------------
# Constants and defaults
# ---------------------------------------------------------------------------------------
M_NEUTRON_GEV: float = 0.93956542052  #: neutron mass (PDG 2022)
R_E_CM: float = 2.8179403262e-13  #: classical electron radius (CODATA 2018)
N_AVOGADRO: float = 6.02214076e23  #: mol^-1

MODES: tuple[str, ...] = ("nu", "nubar")
#: Exposures of the 2020 release (arXiv:2006.16883): neutrino and antineutrino mode.
POT: dict[str, float] = {"nu": 18.75e20, "nubar": 11.27e20}
#: Nuclear binding energy in the CCQE formula: 34 MeV (nu mode), 30 MeV (nubar mode).
BINDING_ENERGY_GEV: dict[str, float] = {"nu": 0.034, "nubar": 0.030}

#: Sterile-oscillation defaults: the values Ref. [31] (Kamp et al., arXiv:2206.07100) fixed
#: from short-baseline data without MiniBooNE: sin^2 2theta_mue = 6e-4, Delta m^2 = 1.3 eV^2
#: (as the authors' presentation of Ref. [31] states; their 2021 predecessor,
#: arXiv:2105.06470, used 7e-4 with the same Delta m^2).
DEFAULT_SIN2_2THETA_MUE: float = 6.0e-4
DEFAULT_DM2_EV2: float = 1.3
DM2_MAX_EV2: float = 100.0

#: Geometry of the detector model (``detector/miniboone.toml``): oil sphere and the
#: fiducial sphere of the nu_e selection (r < 5.0 m), both centred at the origin.
OIL_RADIUS_M: float = 6.1
OIL_DENSITY_G_CM3: float = 0.85
FIDUCIAL_RADIUS_M: float = 5.0
#: Mineral oil (CH2) by mass, as in the detector model.
MINERAL_OIL_COMPONENTS: tuple[tuple[int, float], ...] = ((1000010010, 0.1438253), (1000060120, 0.8561715))

#: Shower resolution defaults (public re-analyses: ~12%/sqrt(E) plus a percent-level term).
ENERGY_RESOLUTION_STOCHASTIC: float = 0.12
ENERGY_RESOLUTION_CONSTANT: float = 0.01
ANGULAR_RESOLUTION_DEG: float = 3.0

#: cos(theta) fit: flat, bin-uncorrelated fractional systematic on the background
#: (mean of the nu_mu-constrained per-bin background uncertainty of the release in
#: 200 < E_nu^QE < 1250 MeV, which ranges from 10% to 19%).
COSTHETA_FRACTIONAL_SYST: float = 0.13
#: E_nu^QE window of the digitised cos(theta) and E_vis distributions (arXiv:2006.16883).
ANGULAR_ENU_RANGE_GEV: tuple[float, float] = (0.2, 1.25)

DEFAULT_SEED: int = 20201010

Stat = Literal["signal", "pearson", "cnp"]
STAT_CHOICES: tuple[str, ...] = ("signal", "pearson", "cnp")

_RELEASE_FILES = {
    "nu": ("numode", "nue", "numu", "nu"),
    "nubar": ("nubarmode", "nuebar", "numubar", "nubar"),
}
_NTUPLES = {
    "nu": "miniboone_numunuefullosc_ntuple.txt.gz",
    "nubar": "miniboone_numubarnuebarfullosc_ntuple.txt.gz",
}


def _data(*parts: str) -> Traversable:
    path = files("dipolehnl") / "experiments" / "data" / "miniboone"
    for part in parts:
        path = path / part
    return path


def _readonly(a: ArrayLike) -> NDArray[np.float64]:
    out = np.array(a, dtype=float)
    out.setflags(write=False)
    return out


def check_mode(mode: str) -> str:
    """'nu' (neutrino mode) or 'nubar' (antineutrino mode); anything else raises InputError."""
    from dipolehnl.beam.bnb import check_bnb_mode

    return check_bnb_mode(mode)


# ---------------------------------------------------------------------------------------
# (a) The 2020 data release
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MiniBooNERelease:
    """MiniBooNE's 2020 nu_e / nubar_e appearance data release for one mode.

    Attributes
    ----------
    mode: 'nu' or 'nubar'.
    enu_edges_MeV: (12,) E_nu^QE bin edges, 200 ... 3000 MeV.
    nue_data, nue_background: (11,) observed nu_e-like events and predicted background.
    numu_data, numu_prediction: (8,) the nu_mu CCQE sample, observed and predicted.
    fractional_covariance: (30, 30), ordered 11 signal, 11 background, 8 nu_mu bins.
    pot: exposure (protons on target).
    """

    mode: str
    enu_edges_MeV: NDArray[np.float64]
    nue_data: NDArray[np.float64]
    nue_background: NDArray[np.float64]
    numu_data: NDArray[np.float64]
    numu_prediction: NDArray[np.float64]
    fractional_covariance: NDArray[np.float64]
    pot: float

    @property
    def n_nue(self) -> int:
        return int(self.nue_data.size)

    @property
    def n_numu(self) -> int:
        return int(self.numu_data.size)

    @property
    def enu_edges_GeV(self) -> NDArray[np.float64]:
        return self.enu_edges_MeV / 1000.0

    @property
    def excess(self) -> NDArray[np.float64]:
        """Observed minus predicted background per nu_e bin."""
        return self.nue_data - self.nue_background


def _vector(name: str) -> NDArray[np.float64]:
    return np.loadtxt(io.StringIO(_data(*name.split("/")).read_text()), dtype=float, ndmin=1)


@cache
def _load_release(mode: str) -> MiniBooNERelease:
    folder, nue, numu, cov = _RELEASE_FILES[mode]
    base = f"release_2020/{folder}/"
    rel = MiniBooNERelease(
        mode=mode,
        enu_edges_MeV=_readonly(_vector(base + "miniboone_binboundaries_nue_lowe.txt")),
        nue_data=_readonly(_vector(base + f"miniboone_{nue}data_lowe.txt")),
        nue_background=_readonly(_vector(base + f"miniboone_{nue}bgr_lowe.txt")),
        numu_data=_readonly(_vector(base + f"miniboone_{numu}data.txt")),
        numu_prediction=_readonly(_vector(base + f"miniboone_{numu}.txt")),
        fractional_covariance=_readonly(
            np.loadtxt(
                io.StringIO(_data(*(base + f"miniboone_full_fractcovmatrix_{cov}_lowe.txt").split("/")).read_text())
            )
        ),
        pot=POT[mode],
    )
    n_e, n_mu = rel.n_nue, rel.n_numu
    if rel.enu_edges_MeV.size != n_e + 1 or rel.nue_background.size != n_e or rel.numu_prediction.size != n_mu:
        raise InputError(f"MiniBooNE {mode} release: inconsistent bin counts")
    if rel.fractional_covariance.shape != (2 * n_e + n_mu,) * 2:
        raise InputError(f"MiniBooNE {mode} release: covariance is {rel.fractional_covariance.shape}, expected 30x30")
    return rel


def load_release(mode: str = "nu") -> MiniBooNERelease:
    """The shipped 2020 data release of ``mode`` ('nu' or 'nubar')."""
    return _load_release(check_mode(mode))


@dataclass(frozen=True)
class FullOscNtuple:
    """The release's full-transmutation (P = 1) nu_mu -> nu_e Monte Carlo.

    ereco_MeV: reconstructed E_nu^QE; etrue_MeV: true neutrino energy; baseline_cm:
    distance travelled from production to interaction; weight: event weight.  A
    prediction is  sum w P / n_rows  histogrammed in ereco.
    """

    ereco_MeV: NDArray[np.float64]
    etrue_MeV: NDArray[np.float64]
    baseline_cm: NDArray[np.float64]
    weight: NDArray[np.float64]

    @property
    def n_rows(self) -> int:
        return int(self.weight.size)


@cache
def _load_ntuple(mode: str) -> FullOscNtuple:
    folder = _RELEASE_FILES[mode][0]
    raw = _data("release_2020", folder, _NTUPLES[mode]).read_bytes()
    a = np.loadtxt(io.BytesIO(gzip.decompress(raw)), dtype=float)
    if a.ndim != 2 or a.shape[1] != 4:
        raise InputError(f"MiniBooNE {mode} ntuple: expected 4 columns")
    return FullOscNtuple(*(_readonly(a[:, j]) for j in range(4)))


def load_fullosc_ntuple(mode: str = "nu") -> FullOscNtuple:
    """The shipped full-oscillation ntuple of ``mode`` ('nu' or 'nubar')."""
    return _load_ntuple(check_mode(mode))


# ---------------------------------------------------------------------------------------
# (c) Sterile-oscillation prediction
# ---------------------------------------------------------------------------------------
def check_oscillation_parameters(sin2_2theta: float, dm2_eV2: float) -> tuple[float, float]:
    """Validate sin^2(2 theta) in [0, 1] and Delta m^2 in (0, 100] eV^2; InputError otherwise."""
    try:
        s, d = float(sin2_2theta), float(dm2_eV2)
    except (TypeError, ValueError):
        raise InputError(f"oscillation parameters must be numbers, got {sin2_2theta!r}, {dm2_eV2!r}") from None
    if not (math.isfinite(s) and 0.0 <= s <= 1.0):
        raise InputError(f"sin^2(2 theta_mue) must be in [0, 1], got {sin2_2theta!r}")
    if not (math.isfinite(d) and 0.0 < d <= DM2_MAX_EV2):
        raise InputError(f"Delta m^2 must be in (0, {DM2_MAX_EV2:g}] eV^2, got {dm2_eV2!r}")
    return s, d


def appearance_probability(
    sin2_2theta: float, dm2_eV2: float, L_km: ArrayLike, E_GeV: ArrayLike
) -> NDArray[np.float64]:
    """P(nu_mu -> nu_e) = sin^2(2theta) sin^2(1.267 dm2 L / E) (two-flavour, vacuum)."""
    s, d = check_oscillation_parameters(sin2_2theta, dm2_eV2)
    return s * np.sin(1.267 * d * np.asarray(L_km, float) / np.asarray(E_GeV, float)) ** 2


def oscillation_prediction(
    sin2_2theta: float = DEFAULT_SIN2_2THETA_MUE,
    dm2_eV2: float = DEFAULT_DM2_EV2,
    mode: str = "nu",
) -> NDArray[np.float64]:
    """Predicted nu_e appearance events per E_nu^QE bin of the release, shape (11,)
    (read-only; cached per parameter set, so a scan at fixed oscillation pays it once)."""
    s, d = check_oscillation_parameters(sin2_2theta, dm2_eV2)
    return _oscillation_prediction(s, d, check_mode(mode))


@lru_cache(maxsize=256)
def _oscillation_prediction(s: float, d: float, mode: str) -> NDArray[np.float64]:
    nt = load_fullosc_ntuple(mode)
    p = appearance_probability(s, d, nt.baseline_cm * 1e-5, nt.etrue_MeV * 1e-3)
    h, _ = np.histogram(nt.ereco_MeV, bins=load_release(mode).enu_edges_MeV, weights=nt.weight * p)
    return _readonly(h / nt.n_rows)


# ---------------------------------------------------------------------------------------
# (b) The collaboration's chi^2
# ---------------------------------------------------------------------------------------
def _check_bins(name: str, x: ArrayLike, n: int, nonneg: bool = True) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=float)
    if a.shape != (n,):
        raise InputError(f"{name} must have {n} bins, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} must be finite")
    if nonneg and np.any(a < 0):
        raise InputError(f"{name} must be non-negative")
    return a


def _check_stat(stat: str) -> Stat:
    if stat not in STAT_CHOICES:
        raise InputError(f"unknown statistical-error treatment {stat!r}: expected one of {', '.join(STAT_CHOICES)}")
    return cast(Stat, stat)


def cnp_variance(observed: ArrayLike, predicted: ArrayLike) -> NDArray[np.float64]:
    """Combined Neyman-Pearson variance 3 / (1/n + 2/mu) (Ji et al., NIM A 961, 163677
    (2020), arXiv:1903.07185); mu/2 where n = 0; mu must be > 0."""
    n = np.asarray(observed, float)
    mu = np.asarray(predicted, float)
    if np.any(mu <= 0):
        raise InputError("CNP variance needs a positive prediction in every bin")
    with np.errstate(divide="ignore"):
        return np.where(n > 0, 3.0 / (1.0 / np.where(n > 0, n, 1.0) + 2.0 / mu), mu / 2.0)


def _collapse_matrix(n_e: int, n_mu: int) -> NDArray[np.float64]:
    P = np.zeros((n_e + n_mu, 2 * n_e + n_mu))
    i = np.arange(n_e)
    P[i, i] = 1.0
    P[i, i + n_e] = 1.0
    j = np.arange(n_mu)
    P[n_e + j, 2 * n_e + j] = 1.0
    return P


def collapsed_covariance(
    signal: ArrayLike,
    release: MiniBooNERelease | None = None,
    *,
    stat: Stat = "signal",
) -> NDArray[np.float64]:
    """The (n_e + n_mu) x (n_e + n_mu) = 19 x 19 covariance of (nu_e, nu_mu) bins.

    ``signal`` is the predicted signal per nu_e bin (HNL + oscillation).  ``stat``:

    * ``"signal"`` (default, the collaboration's recipe as the release is used in public
      fits, e.g. Ref. [31]'s authors' and Kopp-Machado's; SBNfit's conversion likewise
      treats the background and nu_mu diagonals as containing a statistical part): Poisson
      variance of the signal prediction added to the signal block's diagonal; the released
      matrix already holds the background and nu_mu statistical errors.
    * ``"pearson"``: the prediction (signal + background; nu_mu) added to the collapsed
      diagonal (treats the released matrix as systematic only).
    * ``"cnp"``: the CNP variance of data and prediction added to the collapsed diagonal.
    """
    rel = release if release is not None else load_release("nu")
    stat = _check_stat(stat)
    n_e, n_mu = rel.n_nue, rel.n_numu
    s = _check_bins("signal", signal, n_e)
    pred = np.concatenate([s, rel.nue_background, rel.numu_prediction])
    M = rel.fractional_covariance * np.outer(pred, pred)
    if stat == "signal":
        M[np.arange(n_e), np.arange(n_e)] += s
    P = _collapse_matrix(n_e, n_mu)
    C = P @ M @ P.T
    total = np.concatenate([s + rel.nue_background, rel.numu_prediction])
    if stat == "pearson":
        C[np.diag_indices_from(C)] += total
    elif stat == "cnp":
        C[np.diag_indices_from(C)] += cnp_variance(np.concatenate([rel.nue_data, rel.numu_data]), total)
    return C


def chi2_enu(
    signal: ArrayLike,
    mode: str = "nu",
    *,
    stat: Stat = "signal",
    release: MiniBooNERelease | None = None,
) -> float:
    """chi^2 = Delta^T C^-1 Delta of the E_nu^QE fit for a signal prediction (11,) per bin.

    ``signal`` is everything beyond the released background in the nu_e "signal" block:
    HNL events plus the oscillation prediction (see :func:`chi2_enu_hnl`).
    """
    rel = release if release is not None else load_release(mode)
    C = collapsed_covariance(signal, rel, stat=stat)
    s = np.asarray(signal, float)
    delta = np.concatenate([rel.nue_data - s - rel.nue_background, rel.numu_data - rel.numu_prediction])
    try:
        chol = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        raise InputError("E_nu^QE covariance is not positive definite for this prediction") from None
    z = np.linalg.solve(chol, delta)
    return float(z @ z)


def chi2_enu_hnl(
    hnl_events: ArrayLike,
    *,
    sin2_2theta: float = DEFAULT_SIN2_2THETA_MUE,
    dm2_eV2: float = DEFAULT_DM2_EV2,
    include_oscillation: bool = True,
    mode: str = "nu",
    stat: Stat = "signal",
) -> float:
    """chi^2 of the E_nu^QE fit for HNL events per bin plus the fixed oscillation component."""
    rel = load_release(mode)
    h = _check_bins("HNL events", hnl_events, rel.n_nue)
    osc = oscillation_prediction(sin2_2theta, dm2_eV2, rel.mode) if include_oscillation else 0.0
    return chi2_enu(h + osc, rel.mode, stat=stat, release=rel)


# ---------------------------------------------------------------------------------------
# (d) The cos(theta) fit from the digitised distribution
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigitizedSpectrum:
    """A distribution read off a figure of arXiv:2006.16883: events per bin.

    edges: (n+1,) bin edges (GeV for E_vis, dimensionless for cos theta);
    data, background: (n,) observed events and predicted background per bin.
    """

    name: str
    edges: NDArray[np.float64]
    data: NDArray[np.float64]
    background: NDArray[np.float64]


def _digitized_points(name: str, edges: NDArray[np.float64], x_scale: float) -> NDArray[np.float64]:
    a = np.loadtxt(io.StringIO(_data("digitized_2020", name).read_text()), dtype=float, ndmin=2)
    x = a[:, 0] * x_scale
    idx = np.searchsorted(edges, x, side="right") - 1
    n = edges.size - 1
    if a.shape[0] != n or sorted(idx.tolist()) != list(range(n)):
        raise InputError(f"digitised file {name}: expected one point in each of the {n} bins")
    out = np.zeros(n)
    out[idx] = a[:, 1]
    return out


@cache
def _load_digitized(which: str) -> DigitizedSpectrum:
    if which == "costheta":
        edges = np.loadtxt(io.StringIO(_data("digitized_2020", "Costheta_bin_edges.dat").read_text()))
        data = _digitized_points("cosTheta_data.dat", edges, 1.0)
        bkg = _digitized_points("cosTheta_bkg.dat", edges, 1.0)
    else:
        edges = np.loadtxt(io.StringIO(_data("digitized_2020", "Evis_bin_edges.dat").read_text()))
        data = _digitized_points("Evis_data.dat", edges, 1e-3)  # x in MeV, edges in GeV
        bkg = _digitized_points("Evis_bkg.dat", edges, 1e-3)
    return DigitizedSpectrum(which, _readonly(edges), _readonly(data), _readonly(bkg))


def load_costheta() -> DigitizedSpectrum:
    """Digitised nu-mode cos(theta) distribution (20 bins, -1..1), 200 < E_nu^QE < 1250 MeV."""
    return _load_digitized("costheta")


def load_evis() -> DigitizedSpectrum:
    """Digitised nu-mode visible-energy distribution (23 bins, 0.1..1.25 GeV)."""
    return _load_digitized("evis")


def chi2_costheta(
    signal: ArrayLike,
    *,
    fractional_syst: float = COSTHETA_FRACTIONAL_SYST,
    normalization_syst: float = 0.0,
) -> float:
    """chi^2 of the cos(theta) fit for a signal (20,) per bin (HNL + oscillation).

    Uncertainty model (no covariance was released for this distribution):
    V = diag(CNP(n, s + b)) + diag((f b)^2) + g^2 b b^T  with f = ``fractional_syst``
    (bin-uncorrelated, default 13%) and g = ``normalization_syst`` (fully correlated,
    default 0); chi^2 = r^T V^-1 r with r = n - s - b.
    """
    spec = load_costheta()
    n = spec.edges.size - 1
    s = _check_bins("signal", signal, n)
    for name, v in (("fractional_syst", fractional_syst), ("normalization_syst", normalization_syst)):
        if not (math.isfinite(float(v)) and 0.0 <= float(v) < 10.0):
            raise InputError(f"{name} must be in [0, 10), got {v!r}")
    b = spec.background
    pred = s + b
    V = np.diag(cnp_variance(spec.data, pred) + (fractional_syst * b) ** 2) + normalization_syst**2 * np.outer(b, b)
    r = spec.data - pred
    return float(r @ np.linalg.solve(V, r))


# ---------------------------------------------------------------------------------------
# (e) Single-photon shower reconstruction
# ---------------------------------------------------------------------------------------
def _tsai_radiation_logs(Z: int) -> tuple[float, float]:
    """(L_rad, L'_rad) of Tsai's radiation-length formula (PDG Table 34.2)."""
    table = {1: (5.31, 6.144), 2: (4.79, 5.621), 3: (4.74, 5.805), 4: (4.71, 5.924)}
    if Z in table:
        return table[Z]
    return math.log(184.15 * Z ** (-1.0 / 3.0)), math.log(1194.0 * Z ** (-2.0 / 3.0))


def _coulomb_correction(Z: int) -> float:
    a2 = (ALPHA_EM * Z) ** 2
    return a2 * (1.0 / (1.0 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2**2 - 0.002 * a2**3)


def radiation_length_g_cm2(components: tuple[tuple[int, float], ...] | list[tuple[int, float]]) -> float:
    """Radiation length X0 (g/cm^2) of a material given as (PDG code, mass fraction) pairs,
    from Tsai's formula per element and 1/X0 = sum w_i / X0_i."""
    from dipolehnl.constants import GEV_PER_U
    from dipolehnl.physics.nuclei import nucleus

    if not components:
        raise InputError("radiation length: empty material")
    inv = 0.0
    wsum = 0.0
    for pdg, w in components:
        if not (math.isfinite(float(w)) and w > 0):
            raise InputError(f"radiation length: mass fraction of {pdg} must be positive, got {w!r}")
        nuc = nucleus(int(pdg))
        A = nuc.atomic_mass_GeV / GEV_PER_U  # g/mol
        L, Lp = _tsai_radiation_logs(nuc.Z)
        inv_x0 = (
            4.0 * ALPHA_EM * R_E_CM**2 * N_AVOGADRO / A * (nuc.Z**2 * (L - _coulomb_correction(nuc.Z)) + nuc.Z * Lp)
        )
        inv += w * inv_x0
        wsum += w
    return wsum / inv


def mineral_oil_radiation_length_cm(density_g_cm3: float = OIL_DENSITY_G_CM3) -> float:
    """X0 of the detector's mineral oil (CH2) in cm: X0[g/cm^2] / rho."""
    from dipolehnl.errors import check_positive

    return radiation_length_g_cm2(MINERAL_OIL_COMPONENTS) / check_positive("oil density_g_cm3", density_g_cm3)


def photon_conversion_length_cm(density_g_cm3: float = OIL_DENSITY_G_CM3) -> float:
    """Mean free path of a high-energy photon for pair conversion in the oil: (9/7) X0, cm."""
    return 9.0 / 7.0 * mineral_oil_radiation_length_cm(density_g_cm3)


def _unit(v: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    n = np.linalg.norm(v, axis=1)
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise InputError(f"{name}: every direction must be finite and non-zero")
    return v / n[:, None]


def conversion_probability(
    positions_m: ArrayLike,
    directions: ArrayLike,
    *,
    conversion_length_cm: float | None = None,
    oil_radius_m: float = OIL_RADIUS_M,
    fiducial_radius_m: float = FIDUCIAL_RADIUS_M,
) -> NDArray[np.float64]:
    """Probability that a photon from ``positions_m`` (N,3) along ``directions`` (N,3)
    converts (starts its shower) inside the fiducial sphere.

    The photon is attenuated only in the oil (mean free path lambda, default (9/7) X0):
    with [t_o1, t_o2] and [t_f1, t_f2] the forward (t >= 0) intersections of the ray with
    the oil and fiducial spheres (concentric, r_f <= r_o),
    P = exp(-(t_f1 - t_o1)/lambda) - exp(-(t_f2 - t_o1)/lambda), and 0 if the ray misses
    the fiducial sphere.  Air between the hall and the oil is neglected (X0 ~ 300 m).
    """
    from dipolehnl.detector.shapes import Sphere

    lam_m = (conversion_length_cm if conversion_length_cm is not None else photon_conversion_length_cm()) / 100.0
    if not (math.isfinite(lam_m) and lam_m > 0):
        raise InputError(f"conversion length must be positive, got {conversion_length_cm!r}")
    if not (0 < fiducial_radius_m <= oil_radius_m):
        raise InputError(f"fiducial radius {fiducial_radius_m} m must be in (0, oil radius {oil_radius_m} m]")
    x = np.atleast_2d(np.asarray(positions_m, float))
    d = _unit(np.atleast_2d(np.asarray(directions, float)), "photon directions")
    if x.shape != d.shape or x.shape[1] != 3:
        raise InputError(f"positions {x.shape} and directions {d.shape} must both be (N, 3)")
    o1, o2 = Sphere([0.0, 0.0, 0.0], oil_radius_m).intersect(x, d)
    f1, f2 = Sphere([0.0, 0.0, 0.0], fiducial_radius_m).intersect(x, d)
    hit = (f1 <= f2) & (f2 > 0)
    start = np.maximum(np.where(o1 <= o2, o1, 0.0), 0.0)
    a = np.maximum(np.where(hit, f1, 0.0), 0.0)
    b = np.where(hit, f2, 0.0)
    p = np.exp(-(a - start) / lam_m) - np.exp(-(b - start) / lam_m)
    return np.where(hit, np.clip(p, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class ShowerEfficiency:
    """MiniBooNE's efficiency for a single gamma/e- shower to pass the nu_e selection vs its
    generated energy (2012 data release); includes the selection's fiducial requirement."""

    energy_GeV: NDArray[np.float64]
    efficiency: NDArray[np.float64]
    syst_error: NDArray[np.float64]

    def __call__(self, E_GeV: ArrayLike) -> NDArray[np.float64]:
        """Linear interpolation; below the first node 0, above the last node its value."""
        E = np.asarray(E_GeV, float)
        return np.interp(E, self.energy_GeV, self.efficiency, left=0.0, right=float(self.efficiency[-1]))


@lru_cache(maxsize=1)
def load_shower_efficiency() -> ShowerEfficiency:
    """The shipped gamma/e efficiency table (energies converted from MeV to GeV)."""
    a = np.loadtxt(io.StringIO(_data("efficiency", "gamma_electron_efficiency.dat").read_text()), ndmin=2)
    return ShowerEfficiency(_readonly(a[:, 0] / 1000.0), _readonly(a[:, 1]), _readonly(a[:, 2]))


def energy_resolution_sigma_GeV(
    E_GeV: ArrayLike,
    stochastic: float = ENERGY_RESOLUTION_STOCHASTIC,
    constant: float = ENERGY_RESOLUTION_CONSTANT,
) -> NDArray[np.float64]:
    """sigma_E = E sqrt(a^2 / E + c^2) (a/sqrt(E) and c added in quadrature), GeV."""
    E = np.asarray(E_GeV, float)
    return np.sqrt(stochastic**2 * np.maximum(E, 0.0) + (constant * E) ** 2)


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return (
        seed if isinstance(seed, np.random.Generator) else np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    )


def smear_energy(
    E_GeV: ArrayLike,
    rng: int | np.random.Generator | None = None,
    *,
    stochastic: float = ENERGY_RESOLUTION_STOCHASTIC,
    constant: float = ENERGY_RESOLUTION_CONSTANT,
) -> NDArray[np.float64]:
    """Gaussian-smeared shower energy (GeV), truncated at 0."""
    E = np.asarray(E_GeV, float)
    g = _rng(rng)
    return np.maximum(E + g.standard_normal(E.shape) * energy_resolution_sigma_GeV(E, stochastic, constant), 0.0)


def smear_direction(
    directions: ArrayLike,
    rng: int | np.random.Generator | None = None,
    *,
    sigma_deg: float = ANGULAR_RESOLUTION_DEG,
) -> NDArray[np.float64]:
    """Unit directions (N,3) deflected by Gaussian angles of ``sigma_deg`` in each of two
    orthogonal projections (small-angle; the space angle is Rayleigh-distributed)."""
    d = _unit(np.atleast_2d(np.asarray(directions, float)), "directions")
    if sigma_deg <= 0:
        return d
    g = _rng(rng)
    # an orthonormal basis (u, v) perpendicular to d
    helper = np.where(np.abs(d[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    u = np.cross(d, helper)
    u /= np.linalg.norm(u, axis=1)[:, None]
    v = np.cross(d, u)
    ang = np.deg2rad(sigma_deg) * g.standard_normal((d.shape[0], 2))
    out = d + ang[:, :1] * u + ang[:, 1:] * v
    return out / np.linalg.norm(out, axis=1)[:, None]


def enu_qe_GeV(
    E_lepton_GeV: ArrayLike,
    cos_theta: ArrayLike,
    mode: str = "nu",
    *,
    binding_energy_GeV: float | None = None,
    m_lepton_GeV: float = M_E_GEV,
) -> NDArray[np.float64]:
    """MiniBooNE's CCQE neutrino energy for a lepton (total energy E, angle to the beam).

    Neutrino mode (n -> p):  [2(M_n - E_B)E - ((M_n - E_B)^2 + m^2 - M_p^2)] /
    [2(M_n - E_B - E + p cos theta)], E_B = 34 MeV; antineutrino mode (p -> n): M_n <-> M_p,
    E_B = 30 MeV.  Kinematically undefined entries (denominator <= 0) are NaN; they fall in
    no histogram bin.
    """
    m = check_mode(mode)
    eb = BINDING_ENERGY_GEV[m] if binding_energy_GeV is None else float(binding_energy_GeV)
    M_i, M_f = (M_NEUTRON_GEV, M_PROTON_GEV) if m == "nu" else (M_PROTON_GEV, M_NEUTRON_GEV)
    E = np.asarray(E_lepton_GeV, float)
    c = np.asarray(cos_theta, float)
    p = np.sqrt(np.maximum(E**2 - m_lepton_GeV**2, 0.0))
    Mb = M_i - eb
    num = 2.0 * Mb * E - (Mb**2 + m_lepton_GeV**2 - M_f**2)
    den = 2.0 * (Mb - E + p * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


@dataclass(frozen=True)
class SinglePhotonHistograms:
    """Reconstructed single-photon events in the release binnings (events, weights summed).

    enu_qe: (11,) on the release's E_nu^QE edges (all events);
    costheta: (20,) on the digitised cos(theta) edges, 200 < E_nu^QE < 1250 MeV;
    evis: (23,) on the digitised E_vis edges, same E_nu^QE window;
    total: weighted events after conversion and efficiency (before any binning).
    """

    enu_qe: NDArray[np.float64]
    costheta: NDArray[np.float64]
    evis: NDArray[np.float64]
    total: float


@dataclass(frozen=True)
class SinglePhotonBins:
    """Per-photon reconstruction: ``factor`` (N,) = P(conversion in the fiducial sphere) x
    gamma/e efficiency (each as requested; 0 for photons with E = 0), and the bin index of
    every photon in the E_nu^QE (``enu``), cos theta (``costheta``) and E_vis (``evis``)
    histograms of :class:`SinglePhotonHistograms` (-1: in no bin).  Histograms at any
    weights w are sum_i w_i factor_i over the photons of a bin, so a coupling scan
    reconstructs each sample once."""

    factor: NDArray[np.float64]
    enu: NDArray[np.int64]
    costheta: NDArray[np.int64]
    evis: NDArray[np.int64]
    n_enu: int
    n_costheta: int
    n_evis: int

    def histograms(self, weights: ArrayLike) -> SinglePhotonHistograms:
        w = np.asarray(weights, float) * self.factor
        out = []
        for idx, nb in ((self.enu, self.n_enu), (self.costheta, self.n_costheta), (self.evis, self.n_evis)):
            ok = idx >= 0
            out.append(np.bincount(idx[ok], weights=w[ok], minlength=nb).astype(float))
        return SinglePhotonHistograms(out[0], out[1], out[2], float(w.sum()))


def _bin_index(x: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Bin of x in [edges[0], edges[-1]) (right-open), -1 outside or NaN."""
    idx = np.searchsorted(edges, x, side="right") - 1
    ok = np.isfinite(x) & (x >= edges[0]) & (x < edges[-1])
    return np.where(ok, idx, -1).astype(np.int64)


def single_photon_bins(
    photon_p4_GeV: ArrayLike,
    positions_m: ArrayLike,
    *,
    mode: str = "nu",
    seed: int | np.random.Generator | None = None,
    stochastic: float = ENERGY_RESOLUTION_STOCHASTIC,
    constant: float = ENERGY_RESOLUTION_CONSTANT,
    angular_sigma_deg: float = ANGULAR_RESOLUTION_DEG,
    apply_efficiency: bool = True,
    require_fiducial_conversion: bool = True,
    conversion_length_cm: float | None = None,
    oil_radius_m: float = OIL_RADIUS_M,
    fiducial_radius_m: float = FIDUCIAL_RADIUS_M,
) -> SinglePhotonBins:
    """Reconstruct photons as single electron-like showers once (see
    :func:`reconstruct_single_photon`, which is ``single_photon_bins(...).histograms(w)``):
    conversion probability and efficiency per photon, then seeded smearing of E_vis and the
    direction (in that order, one draw per photon with E > 0), E_nu^QE of ``mode``, bins."""
    p4 = np.atleast_2d(np.asarray(photon_p4_GeV, float))
    x = np.atleast_2d(np.asarray(positions_m, float))
    n = p4.shape[0]
    if p4.shape != (n, 4) or x.shape != (n, 3):
        raise InputError(f"need photon_p4 (N,4) and positions (N,3); got {p4.shape}, {x.shape}")
    if not (np.all(np.isfinite(p4)) and np.all(np.isfinite(x))):
        raise InputError("photon momenta and positions must be finite")
    if np.any(p4[:, 0] < 0):
        raise InputError("photon energies must be non-negative")
    rel = load_release(mode)
    cos_spec, evis_spec = load_costheta(), load_evis()
    factor = np.zeros(n)
    enu_i = np.full(n, -1, dtype=np.int64)
    cos_i = np.full(n, -1, dtype=np.int64)
    evis_i = np.full(n, -1, dtype=np.int64)
    keep = np.flatnonzero(p4[:, 0] > 0)
    if keep.size:
        E, d = p4[keep, 0], _unit(p4[keep, 1:], "photon momenta")
        f = np.ones(keep.size)
        if require_fiducial_conversion:
            f = f * conversion_probability(
                x[keep],
                d,
                conversion_length_cm=conversion_length_cm,
                oil_radius_m=oil_radius_m,
                fiducial_radius_m=fiducial_radius_m,
            )
        if apply_efficiency:
            f = f * load_shower_efficiency()(E)
        factor[keep] = f
        g = _rng(seed)
        E_vis = smear_energy(E, g, stochastic=stochastic, constant=constant)
        cos_t = smear_direction(d, g, sigma_deg=angular_sigma_deg)[:, 2]
        enu = enu_qe_GeV(E_vis, cos_t, rel.mode)
        enu_i[keep] = _bin_index(enu, rel.enu_edges_GeV)
        lo, hi = ANGULAR_ENU_RANGE_GEV
        win = np.isfinite(enu) & (enu >= lo) & (enu < hi)
        cos_i[keep] = np.where(win, _bin_index(cos_t, cos_spec.edges), -1)
        evis_i[keep] = np.where(win, _bin_index(E_vis, evis_spec.edges), -1)
    return SinglePhotonBins(factor, enu_i, cos_i, evis_i, rel.n_nue, cos_spec.data.size, evis_spec.data.size)


def reconstruct_single_photon(
    photon_p4_GeV: ArrayLike,
    positions_m: ArrayLike,
    weights: ArrayLike,
    *,
    mode: str = "nu",
    seed: int | np.random.Generator | None = None,
    stochastic: float = ENERGY_RESOLUTION_STOCHASTIC,
    constant: float = ENERGY_RESOLUTION_CONSTANT,
    angular_sigma_deg: float = ANGULAR_RESOLUTION_DEG,
    apply_efficiency: bool = True,
    require_fiducial_conversion: bool = True,
    conversion_length_cm: float | None = None,
    oil_radius_m: float = OIL_RADIUS_M,
    fiducial_radius_m: float = FIDUCIAL_RADIUS_M,
) -> SinglePhotonHistograms:
    """Histograms of photons reconstructed as single electron-like showers.

    photon_p4_GeV: (N,4) photon (E, px, py, pz); positions_m: (N,3) decay vertices (origin at
    the tank centre); weights: (N,) expected events of each photon (e.g. rate x BR(N->nu gamma)).
    Each photon is weighted by its probability to convert inside the fiducial sphere
    (``require_fiducial_conversion``; otherwise 1) and by the gamma/e efficiency at its true
    energy (``apply_efficiency``); E_vis and the direction are smeared with a seeded
    generator (reproducible); E_nu^QE uses the electron-like CCQE formula of ``mode``.
    Bin edges are right-open (an E_nu^QE of exactly the last edge is in no bin).
    """
    p4 = np.atleast_2d(np.asarray(photon_p4_GeV, float))
    w = np.atleast_1d(np.asarray(weights, float))
    if w.shape != (p4.shape[0],):
        raise InputError(f"need weights (N,) for {p4.shape[0]} photons; got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputError("weights must be finite and non-negative")
    p4 = np.where((w > 0)[:, None], p4, 0.0)  # photons of zero weight draw no random numbers
    bins = single_photon_bins(
        p4,
        positions_m,
        mode=mode,
        seed=seed,
        stochastic=stochastic,
        constant=constant,
        angular_sigma_deg=angular_sigma_deg,
        apply_efficiency=apply_efficiency,
        require_fiducial_conversion=require_fiducial_conversion,
        conversion_length_cm=conversion_length_cm,
        oil_radius_m=oil_radius_m,
        fiducial_radius_m=fiducial_radius_m,
    )
    return bins.histograms(w)
