"""The reproduce report: template without typed numbers, context from (small) results,
Markdown → HTML with markdown-it-py, the SIREN weight ratio against a direct integration."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2

from dipolehnl.analysis.execution import LocalExecutor
from dipolehnl.analysis.scan import ScanSettings, run_scans
from dipolehnl.report import build_context, render_markdown, to_html
from dipolehnl.report import context as rc
from dipolehnl.report.render import environment
from dipolehnl.workflows import ReproduceSettings

TEMPLATES = Path(rc.__file__).parent / "templates"

#: Numbers the template may type itself: figure and citation numbers, the year naming the
#: ND280 data set ("the 2019 constraint"), and the constants of formulas (a formula is not a
#: result).  Anything else must come from the context.
ALLOWED_IN_TEMPLATE = (
    "Fig. 1",
    "Fig. 4",
    "Ref. [41]",
    "2019",
    "mu_tr_mu4 = 2d",
    "q = 2[s − b ln(1 + s/b)]",
    "2[(s + b) ln(1 + s/b) − s]",
    "d²m³/4π",
    "μ_tr/2",
)
#: a number not glued to a name (T2K, ND280, fig1_geometry, fmt2 and d_μN are names, not numbers)
NUMBER = re.compile(r"(?<![A-Za-z_\d.])\d+(?:\.\d+)?")


def numeric_literals(text: str) -> list[str]:
    for phrase in ALLOWED_IN_TEMPLATE:
        text = text.replace(phrase, " ")
    return NUMBER.findall(text)


def test_scanner_catches_typed_numbers():
    assert numeric_literals("SIREN's weights exceed the exact ones by 5.5× at 250 MeV") == ["5.5", "250"]
    assert numeric_literals("−ln 0.05 = 3.00") == ["0.05", "3.00"]
    assert numeric_literals("{{ x | fmt2 }} T2K-II ND280 d_μN cm³ GeV⁻¹ Fig. 4 Ref. [41]") == []
    assert numeric_literals("{{ ranges[0] }}") == ["0"]


def test_templates_hold_no_numbers():
    files = sorted(TEMPLATES.rglob("*.j2"))
    assert len(files) > 5 and (TEMPLATES / "report.md.j2") in files
    bad = {str(f.relative_to(TEMPLATES)): numeric_literals(f.read_text(encoding="utf-8")) for f in files}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"numbers typed into the report template (compute them into the context): {bad}"


# ---------------------------------------------------------------- rendering from small results
TINY = ScanSettings(
    masses_GeV=(0.1, 0.4), couplings_GeVinv=tuple(np.geomspace(1e-8, 1e-4, 12)), n_events=100, refine=False
)
PAIR = ["t2k2019", "t2k+t2k2"]


@pytest.fixture(scope="module")
def small_results():
    ex = LocalExecutor(1)
    scans = {p: dict(zip(PAIR, run_scans(PAIR, p, TINY, executor=ex))) for p in ("default", "paper")}
    study = {"default": list(scans["default"].values()), "paper (all)": list(scans["paper"].values())}
    # a fake kaon validation: distinctive ratios (a plateau at 1.71 up to 100 MeV, then it drops)
    kaon = {
        "masses_MeV": [30.0, 50.0, 100.0, 200.0],
        "ratio_to_AFH2022": {"t2k2019": [1.70, 1.72, 1.71, 0.433]},
        "ratio_to_AFH2022_darknews": {"t2k2019": [6.0, 5.0, 3.0, 0.01]},
        "settings": {"cl": 0.9, "mu_tr_GeVinv": 1e-6, "exposures": {"t2k2019": {"fiducial_volumes": ["a", "b", "c"]}}},
    }
    cfg = ReproduceSettings(main=TINY, study=TINY)
    summaries = {(n, p): {"max_rel_mc_error_where_signal_1_to_100": 0.0123} for p in scans for n in scans[p]}
    siren = {
        "points": [
            {"mass_MeV": 111.0, "coupling_factor": None, "ratio": 7.77},
            {"mass_MeV": 222.0, "coupling_factor": 3.0, "ratio": 88.8},
        ],
        "source": "a fake SIREN run",
    }
    ctx = build_context(
        scans,
        study,
        kaon,
        cfg,
        {"scans": 12.34},
        wall_s=56.78,
        summaries=summaries,
        fast=True,
        vertex={"d_GeVinv": 4.56e-7, "masses_GeV": (0.05, 0.6)},
        siren=siren,
        extra_sections=[{"title": "Extra study", "body": "| a | b |\n|---|---|\n| x | y |"}],
    )
    return scans, ctx


def test_context_numbers_reach_the_report(small_results):
    scans, ctx = small_results
    md = render_markdown(ctx)
    # injected values come out formatted, where the template puts them
    assert "7.77× at 111 MeV, 88.8× at 222 MeV and 3× the coupling; a fake SIREN run" in md
    assert "d = 4.56e-07 GeV⁻¹ for m_N = 50, 600 MeV" in md
    assert "flat (≈1.7, within ±15%) up to 100 MeV" in md and "From 200 MeV (ratio 0.43) our limit is stronger" in md
    assert "3 fiducial volumes (t2k2019)" in md
    assert "- scans: 12.3 s" in md and "total wall time: 56.8 s" in md and "1.2%" in md
    # densities, widths and statistics thresholds come from the presets, the physics and the analyses
    assert "0.001855 g/cm³" in md and "1.855 g/cm³" in md and "1000× the physical" in md
    assert "2× (γ) and 4× (ee, Dirac)" in md
    # closed forms: zero-background 95% CL limit −ln 0.05; one-sided 95% CL q = χ²₁(90%) = 1.645²; 5σ q = 5²
    assert f"−ln 0.05 = {-np.log(0.05):.2f}" in md
    assert f"95% CL at q = {chi2.ppf(0.90, 1):.3g}, 5 sigma at q = 25." in md
    # sections, including the extra one after the limit table
    for head in (
        "## Headline numbers",
        "### Verdicts",
        "## Limit at selected masses",
        "## Where the signal comes from",
        "## How each of the paper's choices moves the result",
        "## How the external-limit ambiguities move the verdicts",
        "## Validation: HNLs from kaon decays",
        "## Figures",
        "## Methods in brief",
        "## Settings and timing",
    ):
        assert head in md, head
    assert md.index("## Limit at selected masses") < md.index("## Extra study") < md.index("## Where the signal")
    assert "{{" not in md and "{%" not in md and "\n\n\n" not in md


def test_ambiguity_section_lists_every_alternative(small_results):
    from dipolehnl.analysis.limits import load_registry

    _, ctx = small_results
    labels = [a.label for _, a in load_registry().alternatives()]
    am = ctx["ambiguities"]
    assert [a["label"] for a in am["alternatives"]] == labels and labels
    # one row per preset × analysis × level, with nominal + every alternative
    n_levels = sum(len(r.analysis.levels()) for g in small_results[0].values() for r in g.values())
    assert len(am["tables"]) == n_levels
    for t in am["tables"]:
        assert [r["label"] for r in t["rows"]] == ["nominal"] + labels
    md = render_markdown(ctx)
    for lab in labels:
        assert f"`{lab}`" in md


def test_html_has_tables_images_links_and_escapes(small_results):
    _, ctx = small_results
    page = to_html(render_markdown(ctx), "t<i>tle")
    assert page.startswith("<!DOCTYPE html>") and "<title>t&lt;i&gt;tle</title>" in page
    assert page.count("<table>") >= 8 and "<th>a</th>" in page
    assert '<img src="figures/fig4_constraints.png" alt="fig4_constraints"' in page
    assert "<code>default</code>" in page and "<strong>" in page and "<em>" in page
    assert "border-collapse" in page  # the report's CSS
    doc = to_html("see [docs](docs/limits.md) <script>x</script>\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert '<a href="docs/limits.md">docs</a>' in doc and "<script>" not in doc and "&lt;script&gt;" in doc
    assert '<td style="text-align:right">2</td>' in doc


def test_template_rejects_missing_context_keys():
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        environment().get_template("partials/figures.md.j2").render()


def test_electron_section_of_the_context():
    """d_eN rows: nothing excluded → one line saying so; excluded → range, best point, ratio to d_μN."""
    md = (
        environment()
        .get_template("partials/electron.md.j2")
        .render(
            electron={
                "n_masses": 6,
                "n_events": 1000,
                "rows": [
                    {
                        "analysis": "t2k2019",
                        "level": "95% CL",
                        "excluded": True,
                        "m_from_MeV": 50.0,
                        "m_to_MeV": 400.0,
                        "m_best_MeV": 200.0,
                        "d_best": 3.3e-6,
                        "ratio": {"median": 8.0, "min": 5.0, "max": 12.0},
                    },
                    {"analysis": "t2k+t2k2", "level": "95% CL", "excluded": False},
                ],
            },
            **{},
        )
    )
    assert "excluded from 50 to 400 MeV; strongest at m_N = 200 MeV, d_eN > 3.3e-06 GeV⁻¹" in md
    assert "median 8 (range 5–12)" in md and "t2k+t2k2 (95% CL): nothing excluded" in md


# ---------------------------------------------------------------- pieces of the context
def test_kaon_plateau():
    k = rc.kaon_section(
        {
            "masses_MeV": [30, 50, 100],
            "ratio_to_AFH2022": {"x": [2.0, 2.1, 2.2]},
            "ratio_to_AFH2022_darknews": {"x": [0.5, 1.0, 4.0]},
        }
    )
    assert k["plateau"]["up_to_MeV"] == 100 and k["plateau"]["beyond_MeV"] is None
    assert k["plateau"]["value"] == pytest.approx(2.1) and k["plateau"]["darknews_max_factor"] == pytest.approx(4.0)
    k = rc.kaon_section({"masses_MeV": [], "ratio_to_AFH2022": {}, "ratio_to_AFH2022_darknews": {}})
    assert k["plateau"] is None


def test_ranges_and_fmt():
    assert rc.ranges([(390.0, 743.0), (900.0, 900.0)]) == "390–743 MeV, 900 MeV"
    assert rc.ranges([]) == "none" and rc.fmt(float("nan")) == "—" and rc.fmt(None) == "—"
    assert rc.fmt(3.87e-7) == "3.87e-07"


# ---------------------------------------------------------------- SIREN's rates (measured data)
def test_siren_rate_ratios_are_the_reference_measurements(reference_dir):
    """The report's SIREN ratios are the measured ones of the reference inputs, with the source."""
    from dipolehnl.report.claims import SIREN_RATE_RATIOS

    text = " ".join((reference_dir / "README.md").read_text().split())
    assert "5.5× (m = 250 MeV) to 40× (500 MeV) and 275× (500 MeV, 2× the coupling)" in text
    pts = [(p["mass_MeV"], p["coupling_factor"], p["ratio"]) for p in SIREN_RATE_RATIOS["points"]]
    assert pts == [(250.0, None, 5.5), (500.0, None, 40.0), (500.0, 2.0, 275.0)]
    assert "reference" in SIREN_RATE_RATIOS["source"]
