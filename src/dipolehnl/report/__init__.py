"""The ``reproduce`` report: a Jinja2 template rendered from a context built from results.

``build_context(scans, study, kaon, settings, timings, wall_s=..., summaries=..., ...)``
(:mod:`dipolehnl.report.context`) computes every number the report prints;
:func:`render_markdown` fills ``templates/report.md.j2`` (one partial per section under
``templates/partials/``) and :func:`to_html` turns the Markdown into a standalone page with
markdown-it-py (CommonMark + pipe tables).  The template holds no numbers of its own: a test
scans it for numeric literals (tests/test_report.py).

Context schema (top-level keys; all values plain data):

``title``, ``version``, ``fast``
    report title, package version, whether the grids are the coarse ``--fast`` ones.
``presets``
    ``{'default'|'paper': {convention, br_ee, flux_components, asimov_q, gas_density_g_cm3},
    'physical_gas_density_g_cm3', 'gas_density_ratio'}``.
``widths``
    consistent/DarkNews width ratios ``{'gamma', 'ee'}``.
``miniboone``
    CL label of each MiniBooNE region (``energy_fit_95CL``, ``angle_fit_95CL``), from the limit registry.
``paper_claims``, ``production_claim``
    the paper's statements with their source (:mod:`dipolehnl.report.claims`).
``headline``
    rows ``{analysis, preset, level, ranges, claim, mb_energy, mb_angle, allowed_energy, allowed_angle}``.
``verdicts``
    ``{level, d19, sens: [...], p19, siren}``; ``siren`` from
    :data:`dipolehnl.report.claims.SIREN_RATE_RATIOS` (measured SIREN runs).
``limits``
    ``{level, columns, rows: [{m_MeV, cells}]}`` (lower edges at :data:`context.TABLE_MASSES_MEV`).
``electron``
    the d_eN result or None.
``production``
    per preset ``{preset, analysis, names, rows: [{m_MeV, d, shares}], turn_MeV}``.
``differences``
    the one-difference study ``{masses_MeV, level, sens_level, rows: [{label, cells, ranges19, ranges_sens}]}``.
``ambiguities``
    ``{alternatives: [{label, curve, factor, reason}], tables: [{preset, analysis, level, rows:
    [{label, ranges, allowed_energy, allowed_angle, changed}], n_changed}], n_changed, changed_rows}``:
    world-leading ranges and MiniBooNE coverage with the nominal external curves and with each
    ambiguous curve's alternative (``world_leading_ranges(..., alternatives=True)``).
``kaon``
    ``{exposures, masses_MeV, rows, settings, plateau, n_fiducial_volumes}``.
``statistics``
    ``{constraint: {label, alpha, threshold}, sensitivity: [{label, threshold}]}``.
``figures``
    ``[{stem, caption, src}]``.
``settings``
    grid, events, seed, refinement target, timings, wall time, platform, MC errors.
``extra_sections``
    ``[{'title': str, 'body': Markdown str}]``: sections produced by other studies (the
    MiniBooNE fit verdict, the modelling-uncertainty table, ...), each made by a function
    returning Markdown; ``workflows.reproduce`` collects them and they are printed, in order,
    after the limit table (and the d_eN result) as ``## title`` + body.  Numbers in a body are
    the producing function's responsibility (computed, not typed).
"""

from __future__ import annotations

from dipolehnl.report.context import build_context
from dipolehnl.report.render import render_markdown, to_html

__all__ = ["build_context", "render_markdown", "to_html"]
