"""Rate summaries of an event sample through a signal channel (``dipolehnl rate``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dipolehnl.analysis.channels import Channel
from dipolehnl.errors import check_positive
from dipolehnl.generate.sample import EventSample


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """Weighted median.

    Parameters
    ----------
    x : numpy.ndarray
        Values, shape (n,).
    w : numpy.ndarray
        Non-negative weights, shape (n,).

    Returns
    -------
    float
        The median of ``x`` with weights ``w`` (nan if the weights sum to 0).
    """
    if w.sum() <= 0:
        return float("nan")
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cw, 0.5 * cw[-1])])


def weighted_median_columns(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted medians of one set of values for many sets of weights (sorts once).

    Parameters
    ----------
    x : numpy.ndarray
        Values, shape (n,).
    W : numpy.ndarray
        Non-negative weights, shape (n, K).

    Returns
    -------
    numpy.ndarray
        The weighted median for every column, shape (K,); nan where a column sums to 0.
    """
    x = np.asarray(x, dtype=float)
    W = np.asarray(W, dtype=float)
    if x.size == 0:
        return np.full(W.shape[1], np.nan)
    order = np.argsort(x)
    cw = np.cumsum(W[order], axis=0)  # running sums in the order of x (cw[-1] is the total)
    out: np.ndarray = x[order][np.argmax(cw >= 0.5 * cw[-1], axis=0)]
    out[~(cw[-1] > 0)] = np.nan
    return out


@dataclass(frozen=True)
class RateSummary:
    """Expected events for an exposure (see :func:`rate_summary`).

    Attributes
    ----------
    data : dict
        JSON-ready results: ``selected_events``, ``rel_mc_error``,
        ``median_decay_length_m``, ``production_share``, ``fiducial_volumes`` (cut flow per
        fiducial volume), ``decays_in_fiducial``, the channel and model, the exposure.
    """

    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (:attr:`data`)."""
        return self.data


def rate_summary(
    sample: EventSample, pot: float, channel: Channel | None = None, coupling: float | None = None
) -> RateSummary:
    """Expected selected events of a sample for an exposure (``dh.rate``).

    Besides the selected events: the MC uncertainty, the production share per detector
    region (rock, each sub-system; exact, from the decay integrals), the weighted median
    lab-frame decay length of the selected HNLs, and the per-fiducial-volume cut flow:
    decays in the fiducial volume (all modes) → the channel's stages (``ee``: forward →
    × BR(ee) → opening angle → × efficiency).

    Parameters
    ----------
    sample : EventSample
        Events from :func:`dipolehnl.simulate`.
    pot : float
        Protons on target.
    channel : Channel, optional
        Signal channel (:mod:`dipolehnl.analysis.channels`); default: the e⁺e⁻ channel of
        preset ``default`` with the T2K 2019 efficiency.
    coupling : float, optional
        Reweight exactly to this coupling (GeV^-1) at the sample's mass.

    Returns
    -------
    RateSummary
        The numbers, in :attr:`RateSummary.data`.

    Raises
    ------
    InputError
        For a non-positive or non-finite POT or coupling.
    """
    if channel is None:
        from dipolehnl.analysis.analyses import default_channel

        channel = default_channel()
    pot = check_positive("POT", pot)
    c = sample.columns
    w = sample.weights(coupling) * pot
    stages = [(name, w * f) for name, f in channel.cut_flow(sample)]
    sel = stages[-1][1]
    total = float(sel.sum())
    rel = sample.mc_error(sel) / total if total > 0 else None  # undefined without signal (JSON null)
    basis = sel if total > 0 else w
    subsystems, frac = sample.production_fractions()
    share_w = (frac * basis[:, None]).sum(axis=0)
    share_w = share_w / share_w.sum() if share_w.sum() > 0 else share_w
    fvs: dict[str, dict[str, float | None]] = {}
    for name in sample.fiducial_names:
        k = c["fiducial_volume"] == name
        row: dict[str, float | None] = {"decays_in_fiducial": float(w[k].sum())}
        row.update({stage: float(v[k].sum()) for stage, v in stages})
        row["rel_mc_error"] = (
            (sample.mc_error(np.where(k, sel, 0.0)) / float(sel[k].sum())) if sel[k].sum() > 0 else None
        )
        fvs[name] = row
    d_sample = sample.model.total_coupling_GeVinv
    d = d_sample if coupling is None else coupling
    lam = c["decay_length_m"] * (d_sample / d) ** 2
    data = {
        "selected_events": total,
        "rel_mc_error": rel,
        "median_decay_length_m": weighted_median(lam, basis) if basis.sum() > 0 else None,
        "production_share": {s: float(v) for s, v in zip(subsystems, share_w)},
        "fiducial_volumes": fvs,
        "decays_in_fiducial": float(w.sum()),
        "channel": channel.name,
        **channel.summary(sample),
        "pot": pot,
        "mass_GeV": sample.model.mass_GeV,
        "coupling_GeVinv": d,
        "convention": sample.model.convention.name,
        "majorana": sample.model.majorana,
        "detector": sample.detector.name,
        "flux_components": list(sample.component_names),
        "n_events": sample.n,
        "seed": sample.settings.seed,
    }
    return RateSummary(data)
