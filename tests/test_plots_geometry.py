"""Figure 1 (detector side views): files written, fiducial outlines drawn, slice cells exact."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from dipolehnl.detector import load_detector
from dipolehnl.errors import InputError
from dipolehnl.plots import style
from dipolehnl.plots.geometry import plot_geometry, slice_cells


@pytest.fixture(scope="module")
def geometry_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig")
    return out, plot_geometry(out)


def test_geometry_figure_files(geometry_files):
    out, paths = geometry_files
    assert sorted(p.name for p in paths) == ["fig1_geometry.pdf", "fig1_geometry.png"]
    for p in paths:
        assert p.is_file() and p.stat().st_size > 10_000
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert not list(out.glob("*.tmp"))


def _pixels_near(img: np.ndarray, color: str, tol: float = 0.06) -> int:
    target = np.array(to_rgb(color))
    return int(np.count_nonzero(np.linalg.norm(img[..., :3] - target, axis=-1) < tol))


def test_fiducial_outline_colour_appears(geometry_files):
    _, paths = geometry_files
    img = imread(paths[0])
    # 5 + 3 dashed outlines: many pixels of the outline colour, which no material uses
    assert _pixels_near(img, style.FIDUCIAL_COLOR) > 2_000
    # and the TPC gas colour fills the TPCs
    assert _pixels_near(img, style.material_color("GAS"), tol=0.02) > 20_000


def test_fiducial_colour_differs_from_every_material():
    for name, c in style.MATERIAL_COLORS.items():
        assert style.color_distance(c, style.FIDUCIAL_COLOR) > 0.3, name
    for name in ("unobtainium", "X", "GAS2"):
        assert style.color_distance(style.material_color(name), style.FIDUCIAL_COLOR) > 0.3


def test_material_colour_fallback_is_deterministic():
    assert style.material_color("unobtainium") == style.material_color("unobtainium")
    assert style.material_color("GAS") == style.MATERIAL_COLORS["GAS"]
    assert style.material_color("something").startswith("#")


def test_slice_cells_follow_precedence():
    det = load_detector("nd280")
    z, y, idx = slice_cells(det, (-4.5, 4.5), (-3.5, 3.5))
    assert idx.shape == (y.size - 1, z.size - 1)
    names = [v.name for v in det.volumes]

    def at(zz, yy):
        j = np.searchsorted(z, zz) - 1
        i = np.searchsorted(y, yy) - 1
        return names[idx[i, j]]

    assert at(0.99, 0.0) == "new_TPC_gas_2"  # TPC2 gas wins over its shell and the magnet air
    assert at(0.0, 2.5) == "UA1_yoke"
    assert at(-4.4, 0.0) == "det_hall"
    assert at(0.3075, 0.0) == "FGDXYScint"


def test_save_figure_rejects_bad_stem_and_format(tmp_path):
    fig = style.new_figure()
    with pytest.raises(InputError):
        style.save_figure(fig, tmp_path, "a/b")
    with pytest.raises(InputError):
        style.save_figure(fig, tmp_path, "x", formats=("bmp",))


def test_apply_style_sets_rcparams():
    import matplotlib

    with matplotlib.rc_context():
        style.apply_style()
        assert matplotlib.rcParams["xtick.direction"] == "in"
        assert matplotlib.rcParams["font.family"] == ["serif"]
