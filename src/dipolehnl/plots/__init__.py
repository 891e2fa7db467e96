"""Publication figures (matplotlib, Agg canvas, no display needed).

* :func:`dipolehnl.plots.geometry.plot_geometry` -> ``fig1_geometry`` (ND280 and upgrade, side view)
* :func:`dipolehnl.plots.vertices.plot_vertices` -> ``fig2_vertices`` (upscattering and decay vertices)
* :func:`dipolehnl.plots.decay_length.plot_decay_length` -> ``fig3_decay_length`` (median decay length map)
* :func:`dipolehnl.plots.constraints.plot_constraints` -> ``fig4_constraints`` (limits and sensitivities)
* :func:`dipolehnl.plots.kaon.plot_kaon_validation` -> ``figS1_kaon_validation``
* :mod:`dipolehnl.plots.style`: fonts, sizes, atomic saving, material colours.
"""

from __future__ import annotations

from dipolehnl.plots.style import apply_style, material_color, save_figure

__all__ = ["apply_style", "material_color", "save_figure"]
