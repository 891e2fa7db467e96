"""The report's context: every number the template prints, computed from results.

:func:`build_context` returns plain data (dicts, lists, strings, floats); the template only
formats and arranges it (see :mod:`dipolehnl.report` for the schema).
"""

from __future__ import annotations

import inspect
import math
import platform
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dipolehnl import __version__
from dipolehnl.analysis.limits import load_registry, registry_entry
from dipolehnl.analysis.results import (
    MINIBOONE_REGIONS,
    lower_edge,
    max_rel_mc_error,
    miniboone_allowed_coverage,
    miniboone_coverage,
    world_leading_ranges,
)
from dipolehnl.analysis.scan import REFINE_TARGET, ScanResult
from dipolehnl.report.claims import PAPER_CLAIMS, PAPER_PRODUCTION_CLAIM

#: masses (MeV) of the report's limit table
TABLE_MASSES_MEV = (20, 50, 100, 150, 200, 300, 400, 500, 600, 743, 1000, 1500)
#: how far (relative) the kaon-validation ratio may move from its low-mass value and still count as flat
KAON_FLAT_TOLERANCE = 0.15
#: the figures of the report: file stem → caption (numbers are filled in by :func:`figures`)
FIGURE_STEMS = ("fig1_geometry", "fig2_vertices", "fig3_decay_length", "fig4_constraints", "figS1_kaon_validation")


def fmt(x: Any, digits: int = 3) -> str:
    """``digits`` significant figures; '—' for None/nan/inf."""
    if x is None or (isinstance(x, (float, np.floating)) and not math.isfinite(float(x))):
        return "—"
    return f"{float(x):.{digits}g}"


def ranges(r: Sequence[Sequence[float]] | None) -> str:
    """'390–743 MeV, 900 MeV' (a single grid point prints once); 'none' when empty."""
    if not r:
        return "none"
    return ", ".join(f"{a:.0f} MeV" if math.isclose(a, b) else f"{a:.0f}–{b:.0f} MeV" for a, b in r)


def edge_at(result: ScanResult, m_MeV: float, level=None) -> float:
    """Lower edge of the excluded band at ``m_MeV`` (log–log interpolation between grid
    masses where both have one; nan otherwise)."""
    level = level or result.analysis.levels()[0]
    m = 1e3 * result.masses_GeV
    e = lower_edge(result, level)
    if m_MeV < m[0] or m_MeV > m[-1]:
        return float("nan")
    j = int(np.searchsorted(m, m_MeV))
    if j < m.size and math.isclose(m[j], m_MeV, rel_tol=1e-9):
        return float(e[j])
    i = j - 1
    if not (np.isfinite(e[i]) and np.isfinite(e[j])):
        return float("nan")
    t = (math.log(m_MeV) - math.log(m[i])) / (math.log(m[j]) - math.log(m[i]))
    return float(math.exp((1 - t) * math.log(e[i]) + t * math.log(e[j])))


def _opt(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# ---------------------------------------------------------------- sections
class _Memo:
    """Per-(result, level) results of the external-limit comparisons, computed once per report
    (the MiniBooNE coverages integrate over the regions and are the slow part)."""

    def __init__(self) -> None:
        self._store: dict = {}

    def get(self, kind: str, res: ScanResult, lv, fn):
        key = (kind, id(res), lv.label)
        if key not in self._store:
            self._store[key] = (res, fn(res, lv))  # keep res alive so that its id stays unique
        return self._store[key][1]

    def allowed_alternatives(self, res: ScanResult, lv) -> dict:
        return self.get("mb_allowed_alt", res, lv, lambda r, l: miniboone_allowed_coverage(r, l, alternatives=True))

    def headline(self, res: ScanResult) -> dict[str, dict]:
        return {
            lv.label: {
                "ranges": self.get("wl", res, lv, world_leading_ranges),
                "mb": self.get("mb", res, lv, miniboone_coverage),
                "mb_allowed": self.allowed_alternatives(res, lv)["nominal"],
            }
            for lv in res.analysis.levels()
        }


_MEMO: _Memo | None = None


def headline(res: ScanResult) -> dict[str, dict]:
    """level label → world-leading ranges, MiniBooNE coverage, coverage of the externally allowed part."""
    return (_MEMO or _Memo()).headline(res)


def _claim_text(name: str) -> str:
    c = PAPER_CLAIMS.get(name, {}).get("world_leading_MeV")
    return ranges([c]) if c else ""


def headline_rows(groups: Mapping[str, Mapping[str, ScanResult]]) -> list[dict]:
    rows = []
    for preset, group in groups.items():
        for name, res in group.items():
            first = res.analysis.levels()[0].label
            for lv, h in headline(res).items():
                rows.append(
                    {
                        "analysis": name,
                        "preset": preset,
                        "level": lv,
                        "ranges": ranges(h["ranges"]),
                        "claim": _claim_text(name) if lv == first else "",
                        "mb_energy": h["mb"]["energy_fit_95CL"],
                        "mb_angle": h["mb"]["angle_fit_95CL"],
                        "allowed_energy": h["mb_allowed"]["energy_fit_95CL"],
                        "allowed_angle": h["mb_allowed"]["angle_fit_95CL"],
                    }
                )
    return rows


def verdicts(default: Mapping[str, ScanResult], paper: Mapping[str, ScanResult], siren: dict) -> dict:
    r19 = default["t2k2019"]
    lv19 = r19.analysis.levels()[0].label
    d19 = headline(r19)[lv19]
    sens = [
        {
            "level": lv,
            "ranges": ranges(h["ranges"]),
            "mb_energy": h["mb"]["energy_fit_95CL"],
            "mb_angle": h["mb"]["angle_fit_95CL"],
            "allowed_energy": h["mb_allowed"]["energy_fit_95CL"],
            "allowed_angle": h["mb_allowed"]["angle_fit_95CL"],
        }
        for lv, h in headline(default["t2k+t2k2"]).items()
    ]
    p = paper["t2k2019"]
    p19 = headline(p)[p.analysis.levels()[0].label]
    allowed = d19["mb_allowed"]["energy_fit_95CL"]
    return {
        "level": lv19,
        "d19": {
            "ranges": ranges(d19["ranges"]),
            "allowed_energy": d19["mb_allowed"]["energy_fit_95CL"],
            "allowed_angle": d19["mb_allowed"]["angle_fit_95CL"],
            "disfavours_miniboone": bool(allowed is not None and allowed >= 0.5),
            "majority_share": 0.5,
        },
        "sens": sens,
        "p19": {
            "ranges": ranges(p19["ranges"]),
            "claim": _claim_text("t2k2019"),
            "allowed_energy": p19["mb_allowed"]["energy_fit_95CL"],
            "allowed_angle": p19["mb_allowed"]["angle_fit_95CL"],
        },
        "siren": siren,
    }


def limit_table(groups: Mapping[str, Mapping[str, ScanResult]], masses_MeV=TABLE_MASSES_MEV) -> dict:
    cols = [(p, n, r) for p, g in groups.items() for n, r in g.items()]
    lv = cols[0][2].analysis.levels()[0].label if cols else ""
    return {
        "level": lv,
        "columns": [f"{n} ({p})" for p, n, _ in cols],
        "rows": [{"m_MeV": m, "cells": [edge_at(r, m) for _, _, r in cols]} for m in masses_MeV],
    }


def electron_section(default: Mapping[str, ScanResult], electron: Mapping[str, ScanResult]) -> dict | None:
    """The new result: the 2019 constraint and the T2K + T2K-II sensitivity on d_eN."""
    if not electron:
        return None
    st = next(iter(electron.values())).settings
    rows = []
    for name, res in electron.items():
        lv = res.analysis.levels()[0]
        e = lower_edge(res, lv)
        ok = np.isfinite(e)
        row: dict[str, Any] = {"analysis": name, "level": lv.label, "excluded": bool(ok.any())}
        if ok.any():
            best = int(np.nanargmin(np.where(ok, e, np.nan)))
            row.update(
                m_from_MeV=1e3 * res.masses_GeV[ok][0],
                m_to_MeV=1e3 * res.masses_GeV[ok][-1],
                m_best_MeV=1e3 * res.masses_GeV[best],
                d_best=float(e[best]),
                ratio=None,
            )
            if name in default:
                mu = lower_edge(default[name], lv)
                m_e, m_mu = 1e3 * res.masses_GeV, 1e3 * default[name].masses_GeV
                mu_at = np.exp(np.interp(np.log(m_e), np.log(m_mu), np.log(np.where(np.isfinite(mu), mu, np.nan))))
                r = e / mu_at
                r = r[np.isfinite(r)]
                if r.size:
                    row["ratio"] = {"median": float(np.median(r)), "min": float(r.min()), "max": float(r.max())}
        rows.append(row)
    return {"n_masses": len(st.masses_GeV), "n_events": st.n_events, "rows": rows}


def _shares_at_edge(r, d_edge: float) -> dict[str, float]:
    k = int(np.argmin(np.abs(np.log(r.share_couplings / d_edge))))
    return dict(zip(r.share_names, (float(x) for x in r.shares[k])))


def production(label: str, res: ScanResult, max_rows: int = 12) -> dict:
    """Share of the selected signal per production region at the lower edge of the band."""
    lv = res.analysis.levels()[0]
    edge = lower_edge(res, lv)
    names = sorted({n for r in res.masses for n in r.share_names})
    rows, turn = [], None
    step = max(1, len(res.masses) // max_rows)
    for i, r in enumerate(res.masses):
        if not np.isfinite(edge[i]):
            continue
        sh = _shares_at_edge(r, edge[i])
        if turn is None and sh.get("rock", 0.0) < 0.5:
            turn = 1e3 * r.mass_GeV
        if i % step == 0 or i == len(res.masses) - 1:
            rows.append({"m_MeV": 1e3 * r.mass_GeV, "d": float(edge[i]), "shares": [sh.get(n, 0.0) for n in names]})
    return {"preset": label, "analysis": res.analysis.name, "names": names, "rows": rows, "turn_MeV": turn}


def differences(diffs: Mapping[str, Sequence[ScanResult]], n_columns: int = 6) -> dict:
    base = diffs["default"][0]
    masses = base.masses_GeV * 1e3
    pick = list(masses)[:: max(1, len(masses) // n_columns)]
    rows = []
    for label, (c19, sens) in diffs.items():
        lv = c19.analysis.levels()[0]
        rows.append(
            {
                "label": label,
                "cells": [edge_at(c19, m, lv) for m in pick],
                "ranges19": ranges(world_leading_ranges(c19, lv)),
                "ranges_sens": ranges(world_leading_ranges(sens, sens.analysis.levels()[0])),
            }
        )
    return {
        "masses_MeV": pick,
        "rows": rows,
        "level": base.analysis.levels()[0].label,
        "sens_level": diffs["default"][1].analysis.levels()[0].label,
    }


def ambiguities(groups: Mapping[str, Mapping[str, ScanResult]]) -> dict:
    """How each ambiguous external curve moves the verdicts: per preset × analysis × level, the
    world-leading ranges and the covered share of the externally allowed MiniBooNE regions with
    the nominal curves and with each alternative in turn."""
    reg = load_registry()
    alts = [
        {"label": a.label, "curve": name, "factor": float(a.factor), "reason": a.reason}
        for name, a in reg.alternatives()
    ]
    tables = []
    for preset, group in groups.items():
        for name, res in group.items():
            for lv in res.analysis.levels():
                wl = world_leading_ranges(res, lv, alternatives=True)
                mb = (_MEMO or _Memo()).allowed_alternatives(res, lv)
                nominal = ranges(wl["nominal"])
                rows = [
                    {
                        "label": "nominal",
                        "curve": "",
                        "factor": None,
                        "ranges": nominal,
                        "allowed_energy": mb["nominal"]["energy_fit_95CL"],
                        "allowed_angle": mb["nominal"]["angle_fit_95CL"],
                        "changed": False,
                    }
                ]
                for a in alts:
                    rr = ranges(wl.get(str(a["label"]), []))
                    rows.append(
                        {
                            "label": a["label"],
                            "curve": a["curve"],
                            "factor": a["factor"],
                            "ranges": rr,
                            "allowed_energy": mb[a["label"]]["energy_fit_95CL"],
                            "allowed_angle": mb[a["label"]]["angle_fit_95CL"],
                            "changed": rr != nominal,
                        }
                    )
                tables.append(
                    {
                        "preset": preset,
                        "analysis": name,
                        "level": lv.label,
                        "rows": rows,
                        "n_changed": sum(r["changed"] for r in rows),
                    }
                )
    changed = [f"{t['analysis']} ({t['preset']}, {t['level']})" for t in tables if t["n_changed"]]
    return {"alternatives": alts, "tables": tables, "n_changed": len(changed), "changed_rows": changed}


def kaon_section(kaon: Mapping[str, Any], tolerance: float = KAON_FLAT_TOLERANCE) -> dict:
    """The kaon-validation table and the statements about it: the ratio's low-mass plateau
    (median over the masses where it stays within ``tolerance`` of its first value) and the
    mass up to which it holds, for the first exposure (the 2019 data set)."""
    r, rd, masses = kaon["ratio_to_AFH2022"], kaon["ratio_to_AFH2022_darknews"], list(kaon["masses_MeV"])
    keys = list(r)
    out: dict[str, Any] = {
        "exposures": keys,
        "masses_MeV": masses,
        "settings": dict(kaon.get("settings", {})),
        "rows": [
            {"m_MeV": m, "consistent": [r[k][i] for k in keys], "darknews": [rd[k][i] for k in keys]}
            for i, m in enumerate(masses)
        ],
        "plateau": None,
        "n_fiducial_volumes": {},
    }
    for name, e in dict(out["settings"].get("exposures", {})).items():
        out["n_fiducial_volumes"][name] = len(e.get("fiducial_volumes", ()))
    if keys and masses:
        x = np.asarray(r[keys[0]], dtype=float)
        n = 0
        while n < x.size and np.isfinite(x[n]) and abs(x[n] / x[0] - 1) <= tolerance:
            n += 1
        if n:
            dn = np.asarray(rd[keys[0]], dtype=float)[:n]
            far = float(np.nanmax(np.abs(np.log(dn)))) if np.isfinite(dn).any() else float("nan")
            out["plateau"] = {
                "exposure": keys[0],
                "value": float(np.median(x[:n])),
                "up_to_MeV": masses[n - 1],
                "tolerance": tolerance,
                "beyond": float(x[n]) if n < x.size else None,
                "beyond_MeV": masses[n] if n < x.size else None,
                "darknews_max_factor": math.exp(far) if math.isfinite(far) else None,
            }
    return out


def width_ratios(mass_GeV: float = 0.1, d_GeVinv: float = 1e-6) -> dict[str, float]:
    """consistent / darknews decay widths (γ and e⁺e⁻, Dirac): independent of mass and coupling."""
    from dipolehnl.physics.decays import gamma_nu_ee, gamma_nu_gamma
    from dipolehnl.physics.model import HNLModel, check_convention

    c, d = (HNLModel(mass_GeV, d_GeVinv, convention=check_convention(k)) for k in ("consistent", "darknews"))
    return {"gamma": gamma_nu_gamma(c) / gamma_nu_gamma(d), "ee": gamma_nu_ee(c) / gamma_nu_ee(d)}


def _nuclear_text(opts) -> str:
    """The nuclear-physics choices of a preset in words (from ``physics.nuclear.NuclearOptions``)."""
    parts = [
        f"spin-{'0' if opts.nucleus_spin == 'zero' else '½'} coherent current",
        f"{opts.form_factor} form factors",
        "Pauli blocking" if opts.pauli_blocking else "no Pauli blocking",
        "elastic scattering on neutrons" if opts.neutron_elastic else "no scattering on neutrons",
    ]
    return ", ".join(parts)


def _beamline_text(beamline) -> str:
    """The production geometry of a preset in words (``beam.beamline``)."""
    if beamline is None:
        return "SIREN's rock box with the detector's flux everywhere"
    from dipolehnl.beam.beamline import Beamline

    b = Beamline(**beamline)
    return (
        f"beamline model: earth from {b.rock_start_from_target_m:g} m after the target, "
        f"±{b.lateral_half_width_m:g} m wide, flux from a {b.decay_volume_length_m:g} m line source "
        f"at {b.distance_m:g} m, {b.off_axis_deg:g}° off axis"
    )


def presets_context() -> dict:
    """The presets' physics choices and the TPC gas densities (physical: the shipped detector model)."""
    from dipolehnl.config import PRESETS
    from dipolehnl.detector.catalog import load_detector

    gas = sorted({v.density_g_cm3 for v in load_detector("nd280") if v.is_tpc_gas})
    physical = gas[0] if len(gas) == 1 else float("nan")
    out: dict[str, Any] = {"physical_gas_density_g_cm3": physical}
    for name, p in PRESETS.items():
        dens = p.material_densities_g_cm3.get("GAS")
        out[name] = {
            "convention": str(p.convention.name if hasattr(p.convention, "name") else p.convention),
            "br_ee": p.br_ee,
            "flux_components": p.flux_components,
            "asimov_q": p.asimov_q,
            "gas_density_g_cm3": physical if dens is None else dens,
            "nuclear": _nuclear_text(p.nuclear),
            "beamline": _beamline_text(p.beamline),
        }
    dense = out["paper"]["gas_density_g_cm3"]
    out["gas_density_ratio"] = dense / physical if physical > 0 else float("nan")
    return out


def statistics_context(default: Mapping[str, ScanResult]) -> dict:
    """Levels and thresholds of the zero-background constraint and of the Asimov sensitivity."""
    c = default["t2k2019"].analysis.levels()[0]
    sens = default["t2k+t2k2"].analysis.levels()
    return {
        "constraint": {"label": c.label, "alpha": 1 - c.cl, "threshold": c.threshold},
        "sensitivity": [{"label": lv.label, "threshold": lv.threshold} for lv in sens],
    }


def figures(vertex: Mapping[str, Any]) -> list[dict]:
    """Figure stems with their captions; ``vertex``: the Fig.-2 coupling and masses."""
    m = ", ".join(f"{1e3 * x:.0f}" for x in vertex["masses_GeV"])
    caps = {
        "fig1_geometry": "Detector models (side view through the beam axis): ND280 (top) and its upgrade (bottom), "
        "coloured by material, with the TPC fiducial volumes.",
        "fig2_vertices": f"Upscattering and decay vertices of selected signal at d = {fmt(vertex['d_GeVinv'])} GeV⁻¹ "
        f"for m_N = {m} MeV (preset default).",
        "fig3_decay_length": "Median lab-frame decay length of the selected signal (2019 analysis, preset default); "
        "dashed: analytic estimate from the width and the flux.",
        "fig4_constraints": "Our 2019 constraint (filled, with the flux-uncertainty band), the T2K + T2K-II "
        "sensitivity levels (dashed, dotted), the 2019 constraint with the paper's choices, the "
        "bundled external limits and the MiniBooNE preferred regions.",
        "figS1_kaon_validation": "Kaon-decay validation: |U_μN|² limits against the curves of Ref. [41].",
    }
    return [{"stem": s, "caption": caps[s], "src": f"figures/{s}.png"} for s in FIGURE_STEMS]


def settings_context(cfg, timings: Mapping[str, float], wall: float, summaries: Mapping) -> dict:
    st = cfg.main
    window = inspect.signature(max_rel_mc_error).parameters["window"].default
    return {
        "n_masses": len(st.masses_GeV),
        "m_min_MeV": 1e3 * st.masses_GeV[0],
        "m_max_MeV": 1e3 * st.masses_GeV[-1],
        "n_couplings": len(st.couplings_GeVinv),
        "d_min": st.couplings_GeVinv[0],
        "d_max": st.couplings_GeVinv[-1],
        "n_events": st.n_events,
        "seed": st.seed,
        "refine": bool(st.refine),
        "refine_target": REFINE_TARGET,
        "window": list(window),
        "study_n_masses": len(cfg.study.masses_GeV),
        "timings": [{"label": k, "s": float(v)} for k, v in timings.items()],
        "wall_s": float(wall),
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "mc_errors": [
            {"analysis": n, "preset": p, "value": s["max_rel_mc_error_where_signal_1_to_100"]}
            for (n, p), s in summaries.items()
        ],
    }


def miniboone_labels() -> dict[str, str]:
    """Confidence-level label of each MiniBooNE region ('95%'), from the limit registry."""
    out = {}
    for k, names in MINIBOONE_REGIONS.items():
        cl = registry_entry(names[0]).confidence_level
        out[k] = f"{100 * cl:g}%" if cl else ""
    return out


# ---------------------------------------------------------------- the whole context
def build_context(
    scans: Mapping[str, Mapping[str, ScanResult]],
    study: Mapping[str, Sequence[ScanResult]],
    kaon: Mapping[str, Any],
    settings,
    timings: Mapping[str, float],
    *,
    wall_s: float,
    summaries: Mapping,
    fast: bool = False,
    electron: Mapping[str, ScanResult] | None = None,
    vertex: Mapping[str, Any] | None = None,
    siren: dict | None = None,
    extra_sections: Sequence[Mapping[str, str]] = (),
) -> dict:
    """Everything the report prints (schema: :mod:`dipolehnl.report`).

    ``scans``: preset → analysis → result (presets ``default`` and ``paper``); ``study``:
    variant → (2019 constraint, T2K + T2K-II sensitivity); ``kaon``: the dict of
    :func:`dipolehnl.workflows.kaon_outputs`; ``settings``: the ``ReproduceSettings``;
    ``vertex``: ``{'d_GeVinv', 'masses_GeV'}`` of Fig. 2; ``siren``: measured SIREN rate ratios
    (default :data:`dipolehnl.report.claims.SIREN_RATE_RATIOS`)
    (computed when None); ``extra_sections``: ``[{'title', 'body'}]`` Markdown sections added by other studies.
    """
    global _MEMO
    _MEMO = _Memo()
    try:
        return _build(
            scans, study, kaon, settings, timings, wall_s, summaries, fast, electron, vertex, siren, extra_sections
        )
    finally:
        _MEMO = None


def _build(
    scans, study, kaon, settings, timings, wall_s, summaries, fast, electron, vertex, siren, extra_sections
) -> dict:
    from dipolehnl.report.claims import SIREN_RATE_RATIOS

    default, paper = scans["default"], scans["paper"]
    electron = dict(electron or {})
    order = {"default": default, "paper": paper}
    # headline: the analyses present in both presets first (the paper's pair), in scan order
    head = {p: {n: r for n, r in g.items() if n in PAPER_CLAIMS} for p, g in order.items()}
    table_groups = dict(order)
    if electron:
        table_groups["default, d_eN"] = electron
    extra = [{"title": str(s["title"]), "body": str(s["body"]).strip()} for s in extra_sections]
    return {
        "title": "Dipole-portal HNLs at T2K ND280 and its upgrade: constraints and sensitivities",
        "version": __version__,
        "fast": bool(fast),
        "presets": presets_context(),
        "widths": width_ratios(),
        "miniboone": miniboone_labels(),
        "paper_claims": [
            {
                "analysis": k,
                "ranges": ranges([v["world_leading_MeV"]]),
                "miniboone": v["miniboone"],
                "source": v["source"],
            }
            for k, v in PAPER_CLAIMS.items()
        ],
        "headline": headline_rows(head),
        "verdicts": verdicts(default, paper, siren if siren is not None else SIREN_RATE_RATIOS),
        "limits": limit_table(table_groups),
        "electron": electron_section(default, electron),
        "production": [production(p, g["t2k2019"]) for p, g in order.items()],
        "production_claim": PAPER_PRODUCTION_CLAIM,
        "differences": differences(study),
        "ambiguities": ambiguities(order),
        "kaon": kaon_section(kaon),
        "statistics": statistics_context(default),
        "figures": figures(vertex or {"d_GeVinv": float("nan"), "masses_GeV": ()}),
        "settings": settings_context(settings, timings, wall_s, summaries),
        "extra_sections": extra,
    }
