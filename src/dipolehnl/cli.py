"""Command-line interface: a thin layer over the Python API.

Every sub-command validates its input; an :class:`~dipolehnl.errors.InputError` becomes
one line on stderr and exit code 2.  Units: masses and energies in GeV, couplings in GeV^-1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dipolehnl.config import PRESETS
from dipolehnl.errors import InputError
from dipolehnl.physics.model import CONVENTIONS

log = logging.getLogger("dipolehnl")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are a single line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _seed(text: str) -> int:
    """--seed: an integer in [0, 2^63 - 1] (hardening)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    try:
        from dipolehnl.bounds import check_seed

        return check_seed(v)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _locks_out(fn):
    """Hold the lock on ``args.out`` (a directory) while the command runs: a second run into
    the same directory is refused with one line (``dipolehnl.io.output_lock``)."""
    import functools

    @functools.wraps(fn)
    def wrapper(args: argparse.Namespace) -> int:
        from dipolehnl.io import output_lock

        with output_lock(args.out):
            return fn(args)

    return wrapper


def _emit(obj: dict, as_json: bool) -> None:
    from dipolehnl.io import check_finite

    check_finite(obj, "output")
    if as_json:
        print(json.dumps(obj, indent=2))
    else:
        width = max(len(k) for k in obj)
        for k, v in obj.items():
            print(f"{k:<{width}}  {v:.6g}" if isinstance(v, float) else f"{k:<{width}}  {v}")


# ---------------------------------------------------------------- width
def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mass", type=_float, required=True, help="HNL mass m_N in GeV (2 m_e < m_N <= 5)")
    p.add_argument("--coupling", type=_float, required=True, help="dipole coupling d_alphaN in GeV^-1 (1e-15 to 1)")
    _add_flavor_arg(p)
    p.add_argument("--majorana", action="store_true", help="Majorana HNL (default: Dirac)")
    p.add_argument(
        "--convention", default="consistent", choices=list(CONVENTIONS), help="physics convention (default: consistent)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")


def _add_flavor_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--coupling-flavor",
        default="mu",
        choices=["e", "mu", "tau"],
        help="flavour alpha of the coupling d_alphaN (default mu)",
    )


def _model(args: argparse.Namespace):
    from dipolehnl.physics.model import HNLModel

    return HNLModel.for_flavor(
        args.mass, args.coupling, args.coupling_flavor, majorana=args.majorana, convention=args.convention
    )


def cmd_width(args: argparse.Namespace) -> int:
    from dipolehnl.physics import decays

    model = _model(args)
    out = {
        "gamma_nu_gamma_GeV": decays.gamma_nu_gamma(model),
        "gamma_nu_ee_GeV": decays.gamma_nu_ee(model),
        "gamma_total_GeV": decays.gamma_total(model),
        "br_ee": decays.br_ee(model),
        "ctau_m": decays.ctau_m(model),
        "mass_GeV": model.mass_GeV,
        "coupling_GeVinv": model.d_GeVinv,
        "coupling_flavor": args.coupling_flavor,
        "majorana": model.majorana,
        "convention": model.convention.name,
    }
    _emit(out, args.json)
    return 0


# ---------------------------------------------------------------- xsec
def cmd_xsec(args: argparse.Namespace) -> int:
    from dipolehnl.bounds import check_energy
    from dipolehnl.physics import xsec
    from dipolehnl.physics.nuclei import nucleus

    model = _model(args)
    check_energy(args.energy)
    nuc = nucleus(args.target)
    chans = xsec.channels(nuc.pdg)
    e_th = min(xsec.threshold_energy(model.mass_GeV, ch.M_GeV) for ch in chans)
    if args.energy <= e_th:
        raise InputError(
            f"E = {args.energy} GeV is below the threshold {e_th:.6g} GeV for m_N = {model.mass_GeV} GeV on {nuc.name}"
        )
    parts: dict[tuple[str, int], float] = {}
    for ch in chans:
        for h in (1, -1):
            parts[(ch.regime, h)] = float(xsec.total_xsec_cm2(ch, model, args.energy, helicity=h))
    hels = model.helicities
    coh = sum(parts.get(("coherent", h), 0.0) for h in hels)
    inc = sum(parts.get(("p-el", h), 0.0) for h in hels)
    out = {
        "coherent_cm2": coh,
        "incoherent_cm2": inc,
        "total_cm2": coh + inc,
        "helicity_flip_cm2": parts.get(("coherent", 1), 0.0) + parts[("p-el", 1)],
        "helicity_conserving_cm2": parts.get(("coherent", -1), 0.0) + parts[("p-el", -1)],
        "target": nuc.name,
        "target_pdg": nuc.pdg,
        "energy_GeV": args.energy,
        "threshold_GeV": e_th,
        "primary": {"e": "nue", "mu": "numu", "tau": "nutau"}[args.coupling_flavor]
        + ("bar" if args.antineutrino else ""),
        "convention": model.convention.name,
    }
    _emit(out, args.json)
    return 0


# ---------------------------------------------------------------- simulate / rate
def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {v}")
    return v


def _add_simulation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--experiment",
        default="t2k-nd280",
        help="a shipped experiment (see 'dipolehnl experiments') or an experiment .toml file (default t2k-nd280)",
    )
    p.add_argument(
        "--detector",
        help="use this detector instead of the experiment's: a shipped model name or a "
        "detector file (.toml or SIREN .dat); its own fiducial volumes if it has any",
    )
    p.add_argument("--mode", default="fhc", help="beam mode of the experiment (default fhc)")
    p.add_argument(
        "--flavor",
        default="both",
        help="flux component: numu, numubar, nue, nuebar, nutau, nutaubar, or both (default: nu and nubar "
        "of the coupled flavour; with --preset paper: the dominant one of the mode)",
    )
    p.add_argument("--mass", type=_float, required=True, help="HNL mass m_N in GeV (2 m_e < m_N <= 5)")
    p.add_argument("--coupling", type=_float, required=True, help="dipole coupling d_alphaN in GeV^-1 (1e-15 to 1)")
    _add_flavor_arg(p)
    p.add_argument("--majorana", action="store_true", help="Majorana HNL (default: Dirac)")
    p.add_argument("--preset", default="default", choices=list(PRESETS), help="physics preset (default: default)")
    p.add_argument("--convention", choices=list(CONVENTIONS), help="override the preset's convention")
    p.add_argument(
        "--analysis",
        help="take the signal channel from this analysis (shipped name or .toml file; "
        "default: the e+e- selection of the shipped analyses)",
    )
    p.add_argument(
        "--gas-density", type=_float, help="density of the material GAS in g/cm^3, at most 50 (default: the preset's)"
    )
    p.add_argument(
        "--flux-file",
        help="flux table in the T2K release format to use instead of the shipped one (at most 2 MB and 5000 bins)",
    )
    p.add_argument(
        "--events", type=_positive_int, default=20000, help="number of weighted events (default 20000, at most 5000000)"
    )
    p.add_argument("--seed", type=_seed, default=12345, help="random seed, 0 to 2^63-1 (same seed -> identical output)")
    p.add_argument(
        "--fiducial",
        action="append",
        metavar="NAME=CX,CY,CZ,LX,LY,LZ",
        help="fiducial volume (box centre and full sizes in m, any medium) to use instead of the "
        "experiment's or detector's own; repeat for several (needed where they have none)",
    )


def _simulate_from_args(args: argparse.Namespace):
    from dipolehnl.config import get_preset
    from dipolehnl.generate.api import simulate

    preset = get_preset(args.preset)
    if args.convention:
        preset = preset.with_(convention=args.convention)
    from dipolehnl.bounds import check_density, check_events
    from dipolehnl.detector.fiducial import detector_with_fiducial

    check_events(args.events)
    dens = {"GAS": check_density(args.gas_density, "gas density")} if args.gas_density is not None else None
    detector = args.detector
    if args.fiducial:  # --fiducial replaces the fiducial volumes of the experiment's (or --detector's) detector
        from dipolehnl.generate.api import resolve_experiment

        detector = detector_with_fiducial(detector or resolve_experiment(args.experiment).detector, args.fiducial)
    log.info(
        "simulating %s %s m=%g GeV d=%g GeV^-1 with %d events",
        args.experiment,
        args.mode,
        args.mass,
        args.coupling,
        args.events,
    )
    return simulate(
        args.experiment,
        args.mass,
        args.coupling,
        mode=args.mode,
        flavor=args.flavor,
        n_events=args.events,
        seed=args.seed,
        preset=preset,
        majorana=args.majorana,
        material_densities_g_cm3=dens,
        flux_file=args.flux_file,
        coupling_flavor=args.coupling_flavor,
        detector=detector,
    )


def _channel_from_args(args: argparse.Namespace):
    """The signal channel: the ``[selection]`` of ``--analysis``, or the shipped e+e- one."""
    from dipolehnl.analysis.analyses import default_channel, load_analysis
    from dipolehnl.config import get_preset

    if args.analysis:
        return load_analysis(args.analysis).selection.make_channel(get_preset(args.preset).br_ee)
    return default_channel(args.preset)


def cmd_simulate(args: argparse.Namespace) -> int:
    # --- event output formats by extension: .parquet (default), .hepmc3, .hepmc3.gz (issue 14) ---
    from dipolehnl.bounds import check_pot
    from dipolehnl.generate.api import write_events_parquet
    from dipolehnl.generate.hepmc3 import write_events_hepmc3
    from dipolehnl.io import check_finite_frame, os_errors

    out = str(args.out)
    fmt = "hepmc3" if out.endswith((".hepmc3", ".hepmc3.gz")) else "parquet" if out.endswith(".parquet") else None
    if fmt is None:
        raise InputError(f"--out must name a .parquet, .hepmc3 or .hepmc3.gz file, got {args.out!r}")
    if fmt == "parquet" and args.pot is not None:
        raise InputError("--pot sets the HepMC3 normalisation; Parquet weights are events per POT")
    pot = 1.0 if args.pot is None else check_pot(args.pot)
    channel = _channel_from_args(args)  # validate the analysis before simulating
    sample = _simulate_from_args(args)
    meta = {
        "preset": args.preset,
        "mode": args.mode,
        "flavor": args.flavor,
        "channel": channel.name,
        **channel.summary(sample),
    }
    check_finite_frame(sample.to_frame(), "events")
    with os_errors("events file", out):
        if fmt == "hepmc3":
            written = write_events_hepmc3(
                sample,
                out,
                pot=pot,
                metadata=meta,
                selected_factor=channel.selection_factor(sample),
                selected_decay_mode=channel.decay_mode,
            )["n_events"]
        else:
            extra = {"weight_selected": sample.weights() * channel.selection_factor(sample), **channel.columns(sample)}
            write_events_parquet(sample, out, meta, extra)
            written = sample.n
    sys.stderr.write(f"wrote {written} events to {args.out}\n")
    return 0
    # --- end of event output formats ---


def cmd_rate(args: argparse.Namespace) -> int:
    from dipolehnl.analysis.summary import rate_summary
    from dipolehnl.bounds import check_pot
    from dipolehnl.io import check_finite

    pot = check_pot(args.pot)
    channel = _channel_from_args(args)  # validate the analysis before simulating
    sample = _simulate_from_args(args)
    out = check_finite(rate_summary(sample, pot, channel).to_json(), "rate")
    out["preset"] = args.preset
    out["mode"] = args.mode
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        rel, med = out["rel_mc_error"], out["median_decay_length_m"]
        print(
            f"selected events: {out['selected_events']:.4g}" + (f" ± {100 * rel:.2g}% (MC)" if rel is not None else "")
        )
        print("median lab-frame decay length: " + (f"{med:.4g} m" if med is not None else "n/a (no signal)"))
        print("production share: " + ", ".join(f"{k} {v:.1%}" for k, v in out["production_share"].items() if v > 1e-4))
        for name, t in out["fiducial_volumes"].items():
            print(
                f"  {name}: "
                + " -> ".join(f"{k.replace('_in_fiducial', '')} {v:.4g}" for k, v in t.items() if k != "rel_mc_error")
            )
    return 0


# ---------------------------------------------------------------- scan
def _grid(text: str, what: str) -> tuple[float, ...]:
    """'a,b,c' or 'lo:hi:n' (n log-spaced values) → tuple of floats."""
    import numpy as np

    try:
        if ":" in text:
            lo, hi, n = text.split(":")
            lo_f, hi_f, n_i = float(lo), float(hi), int(n)
            if not (0 < lo_f < float("inf") and 0 < hi_f < float("inf") and n_i >= 1):
                raise InputError(f"the {what} grid {text!r} needs positive finite bounds and n >= 1")
            from dipolehnl.bounds import MAX_COUPLINGS, MAX_MASSES

            limit = MAX_MASSES if what == "mass" else MAX_COUPLINGS
            if n_i > limit:  # before building the grid (hardening)
                raise InputError(
                    f"the {what} grid {text!r} has {n_i} points, above the limit of {limit:,} (docs/robustness.md)"
                )
            vals = tuple(float(v) for v in np.geomspace(lo_f, hi_f, n_i))
        else:
            vals = tuple(float(v) for v in text.split(",") if v.strip())
    except InputError:
        raise
    except ValueError:
        raise InputError(f"cannot read the {what} grid {text!r}: use 'a,b,c' or 'lo:hi:n' (log-spaced)") from None
    if not vals or any(not (v > 0 and v < float("inf")) for v in vals):
        raise InputError(f"the {what} grid must contain positive finite numbers, got {text!r}")
    return vals


def _executor_from_args(args: argparse.Namespace):
    from dipolehnl.analysis.execution import make_executor

    return make_executor(workers=args.workers, dask_scheduler=args.dask_scheduler, dask_local=args.dask_local)


def _add_execution_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_positive_int, help="local worker processes (default: all cores)")
    p.add_argument("--dask-scheduler", metavar="TCP://HOST:PORT", help="run on an existing dask.distributed cluster")
    p.add_argument("--dask-local", type=_positive_int, metavar="N", help="start a local dask cluster with N workers")
    p.add_argument("--quiet", action="store_true", help="no progress display")


def cmd_scan(args: argparse.Namespace) -> int:
    masses = _grid(args.masses, "mass") if args.masses else None  # the cheap checks first
    local = None
    if not (args.dask_scheduler or args.dask_local):
        # a local pool's workers start now: their imports overlap with this process's own and
        # with its input checks (an error stops them at once)
        local = _executor_from_args(args)
        local.start(preload=("dipolehnl.analysis.scan_worker",), tasks=None if masses is None else len(masses))
    try:
        result, summary = _scan(args, masses, local)
    finally:
        if local is not None:
            local.close()
    if not args.quiet:
        wl = summary["world_leading_MeV"]
        sys.stderr.write(
            f"{result.analysis.name} [{result.preset.name}]: {len(result.masses)} masses "
            f"in {result.wall_time_s:.1f} s; "
            f"world-leading {f'{wl[0]:.0f}-{wl[1]:.0f} MeV' if wl else 'nowhere'}; wrote {args.out}\n"
        )
    return 0


def _scan(args: argparse.Namespace, masses, local):
    """``scan``: check the inputs, run the scan (on the started local pool ``local``, or on the
    executor of the options, made after the checks) and write the outputs."""
    from dipolehnl.analysis.results import write_scan_outputs
    from dipolehnl.analysis.scan import (
        DEFAULT_COUPLINGS_GEVINV,
        DEFAULT_EVENTS,
        DEFAULT_MASSES_GEV,
        ScanSettings,
        run_scan,
    )

    settings = ScanSettings(
        masses_GeV=masses if masses is not None else DEFAULT_MASSES_GEV,
        couplings_GeVinv=tuple(sorted(_grid(args.couplings, "coupling")))
        if args.couplings
        else DEFAULT_COUPLINGS_GEVINV,
        n_events=args.events or DEFAULT_EVENTS,
        seed=args.seed,
        majorana=args.majorana,
        coupling_flavor=args.coupling_flavor,
    )
    from dipolehnl.analysis.analyses import load_analysis
    from dipolehnl.bounds import check_scan_grid
    from dipolehnl.io import output_lock

    load_analysis(args.analysis)  # every input and grid check before any computation (and before --out is made)
    check_scan_grid(settings.masses_GeV, settings.couplings_GeVinv, settings.n_events, min_masses=2)
    with output_lock(args.out):  # a second scan into the same --out is refused
        executor = local if local is not None else _executor_from_args(args)
        progress = not args.quiet and sys.stderr.isatty()
        try:
            result = run_scan(
                args.analysis,
                args.preset,
                settings,
                cache_dir=Path(args.out) / ".cache",
                executor=executor,
                progress=progress,
            )
        finally:
            if executor is not local and hasattr(executor, "close"):
                executor.close()
        summary = write_scan_outputs(result, args.out)
    return result, summary


def cmd_experiments(args: argparse.Namespace) -> int:
    from dipolehnl.experiment import experiments_summary

    out = experiments_summary()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for e in out:
        print(f"{e['name']}: {e['description']}")
        print(f"  detector {e['detector']}, {e['distance_m']:g} m from the source")
        for mode, flavors in e["modes"].items():
            print(f"  mode {mode}: {', '.join(flavors)}")
        print(
            "  fiducial volumes: "
            + ", ".join(f"{n} ({v['shape']}, {v['volume_m3']:.3g} m^3)" for n, v in e["fiducial_volumes"].items())
        )
    return 0


# ---------------------------------------------------------------- figures, validation, reproduce
@_locks_out
def cmd_kaon_validation(args: argparse.Namespace) -> int:
    from dipolehnl.workflows import kaon_outputs

    out = kaon_outputs(Path(args.out))
    if not args.quiet:
        sys.stderr.write("wrote " + ", ".join(out["files"]) + "\n")
    return 0


@_locks_out
def cmd_figures(args: argparse.Namespace) -> int:
    from dipolehnl.workflows import ReproduceSettings, kaon_outputs, main_scans, make_figures

    cfg = ReproduceSettings.fast() if args.fast else ReproduceSettings.full()
    out = Path(args.out)
    executor = _executor_from_args(args)
    progress = not args.quiet and sys.stderr.isatty()
    try:
        scans = main_scans(cfg, out / ".cache", executor, progress)  # shared with (and cached by) reproduce
    finally:
        if hasattr(executor, "close"):
            executor.close()
    d, p = scans["default"], scans["paper"]
    files = make_figures(out, d["t2k2019"], d["t2k+t2k2"], p["t2k2019"], cfg.vertex_events)
    files += kaon_outputs(out, figures_dir=out)["files"]
    if not args.quiet:
        sys.stderr.write(f"wrote {len(files)} files to {out}\n")
    return 0


@_locks_out
def cmd_reproduce(args: argparse.Namespace) -> int:
    from dipolehnl.workflows import reproduce

    executor = _executor_from_args(args)
    try:
        info = reproduce(args.out, fast=args.fast, executor=executor, progress=not args.quiet and sys.stderr.isatty())
    finally:
        if hasattr(executor, "close"):
            executor.close()
    if not args.quiet:
        sys.stderr.write(
            f"reproduce finished in {info['wall_time_s']:.0f} s: {Path(args.out) / 'report.md'} and report.html\n"
        )
    return 0


# ---------------------------------------------------------------- main
# ---------------------------------------------------------------- miniboone-fit (issue 10)
def _register_miniboone_fit(sub) -> None:
    """``dipolehnl miniboone-fit``: the MiniBooNE excess fit (analysis/miniboone_fit.py)."""

    def cmd_miniboone_fit(args: argparse.Namespace) -> int:
        from dipolehnl.analysis import miniboone_fit as mbf

        s = mbf.FitSettings(
            convention=args.convention,
            majorana=args.majorana,
            fit=args.fit,
            sin2_2theta=mbf.mb.DEFAULT_SIN2_2THETA_MUE if args.sin2_2theta is None else args.sin2_2theta,
            dm2_eV2=mbf.mb.DEFAULT_DM2_EV2 if args.dm2 is None else args.dm2,
            masses_MeV=_grid(args.masses, "mass") if args.masses else mbf.log_grid(*mbf.DEFAULT_MASSES_MEV),
            couplings_GeVinv=(
                _grid(args.couplings, "coupling") if args.couplings else mbf.log_grid(*mbf.DEFAULT_COUPLINGS_GEVINV)
            ),
            n_events=args.events,
            seed=args.seed,
            workers=args.workers or 1,
        )
        from dipolehnl.io import output_lock

        with output_lock(args.out):  # checked settings first; a second run into the same --out is refused
            res = mbf.run_fit(s)
            files = mbf.write_fit_outputs(res, args.out)
        for f in s.fits:
            bf = res.best_fit(f)
            print(
                f"{f}: best fit m = {bf['m_MeV']:.4g} MeV, d = {bf['d_GeVinv']:.3g} GeV^-1, chi2 = {bf['chi2']:.2f} "
                f"({bf['n_bins']} bins; {bf['chi2_no_hnl']:.2f} without HNL)"
            )
        print(f"wrote {len(files)} files to {args.out} in {res.wall_time_s:.1f} s")
        return 0

    p = sub.add_parser(
        "miniboone-fit", help="fit the MiniBooNE excess with dipole-portal HNLs: Delta chi2 regions in (m_N, d_muN)"
    )
    p.add_argument("--out", required=True, help="output directory (regions, chi2_grid.csv, summary.json)")
    p.add_argument("--convention", default="consistent", choices=("consistent", "darknews"), help="width convention")
    p.add_argument("--fit", default="both", help="enu, costheta or both (default)")
    p.add_argument("--majorana", action="store_true", help="Majorana HNL (default Dirac)")
    p.add_argument(
        "--sin2-2theta", type=_float, default=None, help="fixed sin^2(2 theta_mue) (default 6e-4, Ref. [31])"
    )
    p.add_argument("--dm2", type=_float, default=None, help="fixed Delta m^2 in eV^2 (default 1.3, Ref. [31])")
    p.add_argument("--masses", help="masses in MeV: 'a,b,c' or 'lo:hi:n' log-spaced (default 10:1500:40)")
    p.add_argument("--couplings", help="couplings d in GeV^-1: 'a,b,c' or 'lo:hi:n' (default 1e-8:3e-5:200)")
    p.add_argument("--events", type=_positive_int, default=10000, help="events per mass (default 10000)")
    p.add_argument("--seed", type=int, default=31, help="base seed (default 31)")
    p.add_argument("--workers", type=_positive_int, default=1, help="processes over masses (default 1)")
    p.set_defaults(func=cmd_miniboone_fit)


# ---------------------------------------------------------------- end miniboone-fit


def build_parser() -> argparse.ArgumentParser:
    from dipolehnl import __version__

    parser = _Parser(
        prog="dipolehnl",
        description="Dipole-portal heavy neutral leptons at neutrino experiments.",
        epilog="Input ranges and resource limits: docs/robustness.md (dipolehnl.bounds). Exit codes: 0 success, "
        "2 bad input, a limit exceeded or an output that cannot be written, 130 interrupted, "
        "1 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"dipolehnl {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("width", help="decay widths, branching ratio and c tau")
    _add_model_args(p)
    p.set_defaults(func=cmd_width)

    p = sub.add_parser("xsec", help="upscattering cross sections nu A -> N A")
    _add_model_args(p)
    p.add_argument("--target", type=int, required=True, help="nucleus PDG code 10LZZZAAAI (e.g. 1000060120)")
    p.add_argument("--energy", type=_float, required=True, help="neutrino energy in GeV (at most 1000)")
    p.add_argument("--antineutrino", action="store_true", help="nu_mu-bar primary (same cross section by CP)")
    p.set_defaults(func=cmd_xsec)

    p = sub.add_parser("simulate", help="generate weighted HNL events in the fiducial volumes (Parquet or HepMC3)")
    _add_simulation_args(p)
    # --- event output formats (issue 14) ---
    p.add_argument(
        "--out",
        required=True,
        help="output file: .parquet (one row per event), .hepmc3 or .hepmc3.gz "
        "(one HepMC3 event per entry, NuHepMC conventions; docs/events.md)",
    )
    p.add_argument(
        "--pot", type=_float, help="HepMC3 only: protons on target of the event weights (default 1: events per POT)"
    )
    # --- end of event output formats ---
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("rate", help="expected selected events for an exposure, with cut flow and MC error")
    _add_simulation_args(p)
    p.add_argument("--pot", type=_float, required=True, help="protons on target, e.g. 12.34e20 (at most 1e25)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.set_defaults(func=cmd_rate)

    p = sub.add_parser("scan", help="scan (m_N, d) for an analysis: expected events, contours, summary")
    p.add_argument(
        "--analysis", required=True, help="a shipped analysis (t2k2019, t2k-full, t2k+t2k2) or an analysis .toml file"
    )
    p.add_argument("--preset", default="default", choices=list(PRESETS), help="physics preset")
    p.add_argument(
        "--masses",
        help="HNL masses in GeV: 'a,b,c' (increasing) or 'lo:hi:n' (default 0.01:2:60); 2 to 1000 masses in (2 m_e, 5]",
    )
    p.add_argument(
        "--couplings",
        help="couplings in GeV^-1: 'a,b,c' or 'lo:hi:n' (default 1e-8:1e-4:200); at most 10000 in [1e-15, 1]",
    )
    p.add_argument(
        "--events",
        type=_positive_int,
        help="events per mass and detector (default 4000, refined "
        "adaptively; at most 1000000, and events x couplings <= 5e7)",
    )
    p.add_argument("--seed", type=_seed, default=2412, help="random seed, 0 to 2^63-1")
    p.add_argument("--majorana", action="store_true", help="Majorana HNL (default: Dirac)")
    _add_flavor_arg(p)
    p.add_argument(
        "--out",
        required=True,
        help="output directory (locked while the scan runs; the files are replaced together, summary.json last)",
    )
    _add_execution_args(p)
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("experiments", help="list the shipped experiments: beam modes, flavours, fiducial volumes")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")
    p.set_defaults(func=cmd_experiments)

    p = sub.add_parser(
        "kaon-validation", help="|U_muN|^2 limits from HNLs of kaon decays (supplemental check), CSV + figure"
    )
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--quiet", action="store_true", help="no messages")
    p.set_defaults(func=cmd_kaon_validation)

    p = sub.add_parser("figures", help="the paper's figures (PNG and PDF), running the scans they need")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--fast", action="store_true", help="coarse grids (quick look, not for physics)")
    _add_execution_args(p)
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser(
        "reproduce", help="everything: the three analyses, the validation, all figures and report.md/.html"
    )
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--fast", action="store_true", help="coarse grids (quick look, not for physics)")
    _add_execution_args(p)
    p.set_defaults(func=cmd_reproduce)

    _register_miniboone_fit(sub)  # issue 10
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        sys.stderr.write(f"dipolehnl: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        kept = (
            " (finished masses are kept in the cache: run the same command again to resume)"
            if args.command in ("scan", "figures", "reproduce")
            else ""
        )
        sys.stderr.write(f"dipolehnl: interrupted{kept}\n")
        return 130
    except OSError as exc:  # the user's environment (permissions, full disk, path too long): not our bug
        if args.debug:
            raise
        from dipolehnl.io import describe_os_error

        sys.stderr.write(f"dipolehnl: error: {describe_os_error(exc, 'cannot access')}\n")
        return 2
    except Exception as exc:  # noqa: BLE001 - last line of defence: no tracebacks for users
        if args.debug:
            raise
        sys.stderr.write(f"dipolehnl: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
