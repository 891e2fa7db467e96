"""Geometry: precedence, ray tracing against hand geometry, effective volumes, target nuclei."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dipolehnl.detector import Box, Cylinder, Detector, Material, Sphere, Volume, load_detector
from dipolehnl.errors import InputError

CARBON = Material("C", np.array([1000060120]), np.array([1.0]))
IRON = Material("FE", np.array([1000260560]), np.array([1.0]))
GAS = Material("GAS", np.array([1000180400]), np.array([1.0]))
N_A = 6.02214076e23


def box(c, s):
    return Box(center_m=c, size_m=s)


def slab_detector() -> Detector:
    """World box of carbon (rho 1) with an iron slab (rho 7) inside: later wins."""
    return Detector(
        "slabs",
        [
            Volume("world", box((0, 0, 0), (10, 10, 10)), CARBON, 1.0, "rock"),
            Volume("slab", box((0, 0, 1), (4, 4, 2)), IRON, 7.0, "magnet"),
        ],
    )


@pytest.fixture(scope="module")
def nd280() -> Detector:
    return load_detector("nd280")


# ------------------------------------------------------------------ precedence
def test_precedence_later_wins():
    det = slab_detector()
    assert det.volume_at([[0, 0, 1], [0, 0, -1], [0, 0, 6], [2, 2, 0]]).tolist() == [1, 0, -1, 1]
    # reversed order: the world hides the slab
    rev = Detector("rev", list(reversed(det.volumes)))
    assert rev.volume_at([[0, 0, 1]]).tolist() == [1]  # the world, now listed last


def test_precedence_nd280(nd280):
    names = nd280.volume_names
    # inside the hall (19 x 19 x 37) and the magnet yoke (5.6 x 6.1 x 7.6), outside the chambers
    assert names[nd280.volume_at([[2.5, 0.0, 0.0]])[0]] == "UA1_yoke"
    # TPC2 gas centre is inside the old_TPC_shell_2 box too: the gas wins
    assert names[nd280.volume_at([[0.0, 0.0, 0.99]])[0]] == "new_TPC_gas_2"
    assert names[nd280.volume_at([[0.0, 0.0, 0.99 + 0.49]])[0]] == "old_TPC_shell_2"
    assert names[nd280.volume_at([[0.0, 0.0, -100.0]])[0]] == "surr_earth"
    assert names[nd280.volume_at([[0.0, 0.0, 10.0]])[0]] == "det_hall"
    assert nd280.volume_at([[0.0, 0.0, 10.0], [0, 0, 1000.0]])[1] == -1


# ------------------------------------------------------------------ slabs by hand
def test_trace_slab_by_hand():
    det = slab_detector()
    seg = det.trace([[0, 0, -10]], [[0, 0, 1]])
    names = [det.volume_names[v] for v in seg.volume]
    assert names == ["world", "slab", "world"]
    np.testing.assert_allclose(seg.t_start_m, [5, 10, 12])
    np.testing.assert_allclose(seg.t_end_m, [10, 12, 15])
    # columns: carbon 5 m + 3 m at 1 g/cm3, iron 2 m at 7 g/cm3
    np.testing.assert_allclose(seg.column_density_g_cm2(), [500, 1400, 300])
    assert seg.total_column_g_cm2()[0] == pytest.approx(2200)


def test_trace_oblique_by_hand():
    det = slab_detector()
    theta = 0.3
    d = [math.sin(theta), 0.0, math.cos(theta)]
    # from the centre of the slab's lower face: through 2 m of iron along z -> 2 / cos(theta)
    seg = det.trace([[0, 0, 0]], [d])
    iron = seg.length_m[seg.volume == 1].sum()
    assert iron == pytest.approx(2 / math.cos(theta))
    # then carbon until the world's top face z = 5 (x stays < 5): 3 / cos(theta)
    carbon = seg.length_m[seg.volume == 0].sum()
    assert carbon == pytest.approx(3 / math.cos(theta))


def test_trace_tmax_and_origin_inside():
    det = slab_detector()
    seg = det.trace([[0, 0, 1]], [[0, 0, -1]], t_max_m=3.0)
    assert [det.volume_names[v] for v in seg.volume] == ["slab", "world"]
    np.testing.assert_allclose(seg.t_start_m, [0, 1])
    np.testing.assert_allclose(seg.t_end_m, [1, 3])
    # per-ray t_max
    seg = det.trace([[0, 0, 1], [0, 0, 1]], [[0, 0, -1], [0, 0, -1]], t_max_m=[0.5, 100.0])
    np.testing.assert_allclose(seg.total_column_g_cm2(), [350, 700 + 500])


def test_trace_misses_and_outside_parts():
    det = slab_detector()
    seg = det.trace([[0, 20, 0], [0, 0, -100]], [[0, 0, 1], [0, 0, 1]])
    assert seg.offsets.tolist() == [0, 0, 3]
    assert seg.total_column_g_cm2().tolist()[0] == 0.0
    assert seg.t_start_m[0] == pytest.approx(95.0)


def test_trace_unnormalised_directions():
    det = slab_detector()
    a = det.trace([[0, 0, -10]], [[0, 0, 1]])
    b = det.trace([[0, 0, -10]], [[0, 0, 7.5]])
    np.testing.assert_allclose(a.t_start_m, b.t_start_m)
    np.testing.assert_allclose(a.total_column_g_cm2(), b.total_column_g_cm2())


def test_merge_adjacent_same_volume():
    # two touching boxes of one volume name cannot exist; the same volume re-entered after
    # a zero-length hidden piece must merge: world / coincident faces of two later boxes
    det = Detector(
        "merge",
        [
            Volume("a", box((0, 0, 0), (10, 10, 10)), CARBON, 1.0),
            Volume("b", box((0, 0, -1), (2, 2, 2)), IRON, 2.0),
            Volume("c", box((0, 0, 1), (2, 2, 2)), IRON, 2.0),
        ],
    )
    seg = det.trace([[0, 0, -10]], [[0, 0, 1]])
    assert [det.volume_names[v] for v in seg.volume] == ["a", "b", "c", "a"]
    assert np.all(seg.t_start_m[1:] == seg.t_end_m[:-1])


def test_curved_shapes_trace():
    det = Detector(
        "curved",
        [
            Volume("world", box((0, 0, 0), (10, 10, 10)), CARBON, 1.0),
            Volume("ball", Sphere(center_m=(0, 0, 0), radius_m=2.0), IRON, 5.0),
            Volume("pipe", Cylinder(center_m=(0, 0, 0), radius_m=0.5, length_m=1.0, axis="z"), GAS, 0.0),
        ],
    )
    seg = det.trace([[0, 0, -10]], [[0, 0, 1]])
    assert [det.volume_names[v] for v in seg.volume] == ["world", "ball", "pipe", "ball", "world"]
    np.testing.assert_allclose(seg.length_m, [3, 1.5, 1, 1.5, 3])
    # off-axis at y = 1: sphere chord 2 sqrt(3), pipe missed
    seg = det.trace([[0, 1, -10]], [[0, 0, 1]])
    assert seg.length_m[seg.volume == 1].sum() == pytest.approx(2 * math.sqrt(3))


def test_trace_bad_inputs():
    det = slab_detector()
    with pytest.raises(InputError):
        det.trace([[0, 0, 0]], [[0, 0, 0]])
    with pytest.raises(InputError):
        det.trace([[0, 0, np.nan]], [[0, 0, 1]])
    with pytest.raises(InputError):
        det.trace([[0, 0, 0]], [[0, 0, 1]], t_max_m=-1.0)
    with pytest.raises(InputError):
        det.trace([[0, 0, 0]], [[0, 0, 1], [0, 0, 1]])
    with pytest.raises(InputError):
        det.trace(np.zeros((2, 2)), np.zeros((2, 2)))


# ------------------------------------------------------------------ nd280 along the axis
def test_nd280_axis_column_by_hand(nd280):
    """Ray along z at x = y = 0 from z = -292 to +8: columns from the box edges in the file."""
    seg = nd280.trace([[0, 0, -292]], [[0, 0, 1]], t_max_m=300.0)
    per_vol = seg.column_by_volume_g_cm2()[0]
    names = nd280.volume_names

    def col(*prefixes):
        return sum(per_vol[i] for i, n in enumerate(names) if n.startswith(prefixes))

    # rock: z from -292 to the hall's upstream face -18.5 (hall is 37 m long, centred at 0)
    assert col("surr_earth") == pytest.approx(2.9 * (292 - 18.5) * 100, rel=1e-12)
    # hall air: -18.5 .. -3.8 (yoke/chambers are 7.6 m long) and 3.8 .. 8
    assert col("det_hall") == pytest.approx(0.001225 * (14.7 + 4.2) * 100, rel=1e-9)
    # the yoke is hidden on the axis by UA1_chamber_1 (same z extent, listed later)
    assert col("UA1_yoke") == 0.0
    assert col("UA1_chamber_1") == pytest.approx(0.001225 * 0.2 * 100, rel=1e-9)
    # coil: 7.6-m chamber_1 minus 7.4-m coil is air; coil -3.7..-3.5 and 3.5..3.7
    assert col("UA1_coil") == pytest.approx(1.7033 * 0.4 * 100, rel=1e-9)
    # P0D: 14 lead plates of 4.5 mm, 39 scintillator layers of 38.75 mm, 25 water bags 28 mm, 25 brass 1.28 mm
    assert col("lead_plate") == pytest.approx(14 * 0.45 * 10.6, rel=1e-9)
    # the upstream-ECAL scintillators pod_33..pod_38 overlap the lead plate listed after each
    # of them by 5 um (face positions rounded in the file): the lead wins there
    assert col("pod") == pytest.approx((39 * 3.875 - 6 * 0.0005) * 1.05, rel=1e-9)
    assert col("water_bag") == pytest.approx(25 * 2.8 * 1.0, rel=1e-9)
    assert col("brass_plate") == pytest.approx(25 * 0.128 * 8.73, rel=1e-9)
    # 3 TPCs: 97 cm of gas and 2 x 1.5 cm of shell each
    for k in ("", "_2", "_3"):
        assert per_vol[names.index("new_TPC_gas" + k)] == pytest.approx(0.001855 * 97, rel=1e-9)
        assert per_vol[names.index("old_TPC_shell" + k)] == pytest.approx(0.685 * 3.0, rel=1e-9)
    # FGDs: scintillator then the box walls around it
    assert col("FGDXYScint") == pytest.approx(1.05 * 28.8, rel=1e-9)
    assert col("FGDXYBox") == pytest.approx(0.06 * (36.5 - 28.8), rel=1e-9)
    assert col("FGDWaterScint") == pytest.approx(1.0134 * 21.7, rel=1e-9)
    assert col("FGDWaterBox") == pytest.approx(0.06 * (36.5 - 21.7), rel=1e-9)
    assert col("ECAL_Downstream") == pytest.approx(2.457 * 50, rel=1e-9)
    assert col("PODCAL", "ECAL_Side", "ECAL_Top", "ECAL_Bottom") == 0.0
    # segments tile [0, 300] without gaps larger than the file's own 5 um gaps in the P0D
    assert seg.t_start_m[0] == 0.0 and seg.t_end_m[-1] == pytest.approx(300.0)
    assert np.all(seg.t_start_m[1:] >= seg.t_end_m[:-1])
    assert seg.length_m.sum() == pytest.approx(300.0)


def axis_reference(det: Detector, x: float, y: float, z0: float, z1: float) -> dict[str, float]:
    """Independent 1-D painter along a line parallel to z: column (g/cm^2) per volume name."""
    boxes = []
    for v in det.volumes:
        lo, hi = v.shape.bounds_m
        if lo[0] <= x <= hi[0] and lo[1] <= y <= hi[1]:
            boxes.append((v.name, max(lo[2], z0), min(hi[2], z1), v.density_g_cm3))
    edges = sorted({z0, z1, *[b[1] for b in boxes], *[b[2] for b in boxes]})
    out: dict[str, float] = {}
    for a, b in zip(edges[:-1], edges[1:]):
        if not z0 <= a < b <= z1:
            continue
        mid = 0.5 * (a + b)
        top = [bx for bx in boxes if bx[1] <= mid <= bx[2]]
        if top:
            name, _, _, rho = top[-1]
            out[name] = out.get(name, 0.0) + rho * (b - a) * 100.0
    return out


@pytest.mark.parametrize("x,y", [(0.0, 0.0), (0.5, 0.3), (-1.0, 1.2), (1.6, 0.0), (2.0, -2.9), (0.0, 1.5)])
def test_nd280_lines_against_1d_reference(nd280, x, y):
    ref = axis_reference(nd280, x, y, -292.0, 8.0)
    seg = nd280.trace([[x, y, -292.0]], [[0, 0, 1]], t_max_m=300.0)
    per_vol = seg.column_by_volume_g_cm2()[0]
    got = {n: per_vol[i] for i, n in enumerate(nd280.volume_names) if per_vol[i] > 0}
    assert set(got) == set(ref)
    for name, value in ref.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_nd280_yoke_off_axis(nd280):
    # at x = 2.0 (between the chamber half-width 1.75 and the yoke's 2.8) the yoke is seen over 7.6 m
    seg = nd280.trace([[2.0, 0, -292]], [[0, 0, 1]], t_max_m=300.0)
    i = nd280.volume_index("UA1_yoke")
    assert seg.length_m[seg.volume == i].sum() == pytest.approx(7.6)


def test_nd280_segments_contiguous_and_ordered(nd280):
    rng = np.random.default_rng(3)
    o = rng.uniform([-1, -1, -3], [1, 1, 3], (500, 3))
    d = rng.normal(size=(500, 3))
    seg = nd280.trace(o, d)
    assert seg.n_rays == 500
    assert np.all(np.diff(seg.offsets) >= 1)
    assert np.all(seg.t_end_m > seg.t_start_m)
    same = seg.ray[1:] == seg.ray[:-1]
    assert np.all(seg.t_start_m[1:][same] >= seg.t_end_m[:-1][same])
    # from inside the world everything is contiguous up to the exit, except the file's 5 um P0D gaps
    gaps = seg.t_start_m[1:] - seg.t_end_m[:-1]
    assert gaps[same].max() < 1e-5
    # merged: no two consecutive segments of one ray in the same volume and touching
    touching = same & (gaps <= 1e-9)
    assert not np.any(touching & (seg.volume[1:] == seg.volume[:-1]))
    # midpoints are in the volume claimed
    mid = 0.5 * (seg.t_start_m + seg.t_end_m)
    dn = d / np.linalg.norm(d, axis=1)[:, None]
    pts = o[seg.ray] + mid[:, None] * dn[seg.ray]
    np.testing.assert_array_equal(nd280.volume_at(pts), seg.volume)


def test_batch_equals_single(nd280):
    rng = np.random.default_rng(4)
    o = rng.uniform([-2, -2, -4], [2, 2, 4], (40, 3))
    d = rng.normal(size=(40, 3))
    d[::4] = [0, 0, -1]  # axis-parallel rays in a batch with others
    d[1::4, 0] = 0.0
    batch = nd280.trace(o, d, chunk_size=256).total_column_g_cm2()
    single = np.array([nd280.trace(o[i : i + 1], d[i : i + 1]).total_column_g_cm2()[0] for i in range(40)])
    np.testing.assert_allclose(batch, single, rtol=1e-12)
    small_chunks = nd280.trace(o, d, chunk_size=7).total_column_g_cm2()
    np.testing.assert_allclose(small_chunks, single, rtol=1e-12)


def test_column_additive_when_splitting(nd280):
    rng = np.random.default_rng(5)
    o = rng.uniform([-1, -1, -3], [1, 1, 3], (200, 3))
    d = rng.normal(size=(200, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    total = nd280.trace(o, d, t_max_m=50.0).total_column_g_cm2()
    s = rng.uniform(0, 50, 200)
    first = nd280.trace(o, d, t_max_m=s).total_column_g_cm2()
    second = nd280.trace(o + s[:, None] * d, d, t_max_m=50.0 - s).total_column_g_cm2()
    np.testing.assert_allclose(first + second, total, rtol=1e-9)


# ------------------------------------------------------------------ effective volumes, nuclei
def test_effective_volume_nested_boxes():
    det = Detector(
        "nested",
        [
            Volume("outer", box((0, 0, 0), (4, 4, 4)), CARBON, 1.0),
            Volume("inner", box((0.5, 0, 0), (1, 2, 3)), IRON, 7.0),
        ],
    )
    ev = det.effective_volume_m3(return_error=True)
    np.testing.assert_allclose(ev.volume_m3, [64 - 6, 6])
    assert ev.exact.all() and np.all(ev.error_m3 == 0)


def test_effective_volume_partial_overlap_and_hidden():
    det = Detector(
        "overlap",
        [
            Volume("a", box((0, 0, 0), (2, 2, 2)), CARBON, 1.0),  # [-1,1]^3
            Volume("b", box((1, 0, 0), (2, 2, 2)), IRON, 7.0),  # x in [0,2]: hides half of a
            Volume("hidden", box((1.5, 0, 0), (0.5, 0.5, 0.5)), IRON, 7.0),
            Volume("cover", box((1.5, 0, 0), (1, 1, 1)), CARBON, 1.0),  # hides 'hidden' entirely
        ],
    )
    np.testing.assert_allclose(det.effective_volume_m3(), [4, 8 - 1, 0, 1])


def test_effective_volume_nd280_sums_to_world(nd280):
    ev = nd280.effective_volume_m3()
    assert ev.sum() == pytest.approx(24 * 24 * 300 + 19 * 19 * 10.5, rel=1e-12)
    # TPC gas: fully visible 2.47 x 2.47 x 0.97 boxes
    i = nd280.volume_index("new_TPC_gas_2")
    assert ev[i] == pytest.approx(2.47 * 2.47 * 0.97, rel=1e-12)
    # shell = shell box minus gas box
    j = nd280.volume_index("old_TPC_shell_2")
    assert ev[j] == pytest.approx(2.5 * 2.5 * 1.0 - 2.47 * 2.47 * 0.97, rel=1e-9)
    # rock = rock box minus the part of the hall inside it (the hall sticks out by 10.5 m downstream)
    assert ev[0] == pytest.approx(24 * 24 * 300 - 19 * 19 * 26.5, rel=1e-12)


def test_effective_volume_curved_mc():
    det = Detector(
        "ball",
        [
            Volume("world", box((0, 0, 0), (4, 4, 4)), CARBON, 1.0),
            Volume("ball", Sphere(center_m=(0, 0, 0), radius_m=1.0), IRON, 7.0),
        ],
    )
    ev = det.effective_volume_m3(n_mc=100_000, seed=1, return_error=True)
    ball = 4 / 3 * math.pi
    assert ev.volume_m3[1] == pytest.approx(ball)  # fully visible: exact fraction 1
    assert not ev.exact[0] and not ev.exact[1]  # a box under a later sphere, and the sphere: Monte Carlo
    assert abs(ev.volume_m3[0] - (64 - ball)) < 5 * ev.error_m3[0]
    assert ev.error_m3[0] > 0


def test_target_nuclei_vs_hand():
    det = slab_detector()
    tn = det.target_nuclei()
    assert tn.pdg.tolist() == [1000060120, 1000260560]
    # iron: 32 m^3 of rho = 7 g/cm3 pure Fe56 (55.934936 g/mol)
    fe = 7.0 * 32e6 * N_A / 55.93493633
    assert tn.count[1, 1] == pytest.approx(fe, rel=1e-6)
    c = 1.0 * (1000 - 32) * 1e6 * N_A / 12.0
    assert tn.count[0, 0] == pytest.approx(c, rel=1e-6)
    assert tn.total() == pytest.approx([c, fe], rel=1e-6)
    assert set(tn.by_subsystem()) == {"rock", "magnet"}


def test_number_density_matrix(nd280):
    m = nd280.number_density_matrix_cm3()
    pdg = nd280.nuclei_pdg
    i = nd280.volume_index("surr_earth")
    si = np.searchsorted(pdg, 1000140280)
    assert m[i, si] == pytest.approx(2.9 * 0.4674349 * N_A / 27.97692653, rel=1e-6)
    seg = nd280.trace([[0, 0, -292]], [[0, 0, 1]], 300.0)
    nc = seg.nucleus_column_cm2(m)
    assert nc.shape == (len(seg), pdg.size)


# ------------------------------------------------------------------ detector validation
def test_detector_validation():
    v = Volume("a", box((0, 0, 0), (1, 1, 1)), CARBON, 1.0)
    with pytest.raises(InputError, match="duplicate"):
        Detector("d", [v, v])
    with pytest.raises(InputError, match="no volumes"):
        Detector("d", [])
    with pytest.raises(InputError):
        Volume("neg", box((0, 0, 0), (1, 1, 1)), CARBON, -1.0)
    with pytest.raises(InputError):
        Volume("nan", box((0, 0, 0), (1, 1, 1)), CARBON, float("nan"))


def test_fiducial_volumes_any_shape_in_any_medium_but_inside_the_detector():
    vols = [
        Volume("world", box((0, 0, 0), (10, 10, 10)), CARBON, 1.0, "rock"),
        Volume("gas", box((0, 0, 0), (2, 2, 2)), GAS, 0.001855, "TPC"),
    ]
    det = Detector(
        "ok",
        vols,
        {"FV": box((0, 0, 0), (1, 1, 1)), "rock": box((0, 0, 3), (1, 1, 1)), "ball": Sphere((0, 0, -3), 0.5)},
    )
    assert det.volumes[det.fiducial_medium_volume("FV")].name == "gas"
    assert det.volumes[det.fiducial_medium_volume("rock")].name == "world"
    assert det.volumes[det.fiducial_medium_volume("ball")].name == "world"
    with pytest.raises(InputError, match="not inside the detector"):
        Detector("bad", vols, {"FV": box((0, 0, 5.2), (1, 1, 1))})  # sticks out of the world


def test_with_material_densities(nd280):
    gas = nd280.with_material_densities({"GAS": 1.855})
    assert gas.densities_g_cm3.tolist() == nd280.with_tpc_gas_density(1.855).densities_g_cm3.tolist()
    with pytest.raises(InputError, match="no material 'STEEL'"):
        nd280.with_material_densities({"STEEL": 7.9})


def test_with_tpc_gas_density(nd280):
    paper = nd280.with_tpc_gas_density(1.855)
    gas = paper.tpc_gas_volumes()
    assert len(gas) == 3
    assert all(paper.volumes[i].density_g_cm3 == 1.855 for i in gas)
    assert all(nd280.volumes[i].density_g_cm3 == 0.001855 for i in gas)
    others = [i for i in range(nd280.n_volumes) if i not in gas]
    assert all(paper.volumes[i].density_g_cm3 == nd280.volumes[i].density_g_cm3 for i in others)
    # column along the axis grows by 3 x 97 cm x (1.855 - 0.001855)
    a = nd280.column_density_g_cm2([[0, 0, -292]], [[0, 0, 1]], 300.0)[0]
    b = paper.column_density_g_cm2([[0, 0, -292]], [[0, 0, 1]], 300.0)[0]
    assert b - a == pytest.approx(3 * 97 * (1.855 - 0.001855), rel=1e-9)


def test_trace_and_flux_table_accept_arrays_in_any_memory_layout():
    """The compiled kernels take C-ordered arrays; their callers convert what users pass
    (Fortran-ordered or strided arrays give the same results, no error)."""
    from dipolehnl.beam.beamline import Beamline
    from dipolehnl.detector import load_detector

    det = load_detector("nd280")
    rng = np.random.default_rng(3)
    o, d = rng.uniform(-1, 1, (40, 3)), rng.normal(size=(40, 3))
    want = det.trace(o, d).total_column_g_cm2()
    np.testing.assert_array_equal(det.trace(np.asfortranarray(o), np.asfortranarray(d)).total_column_g_cm2(), want)
    np.testing.assert_array_equal(det.trace(o[::2], d[::2]).total_column_g_cm2(), want[::2])
    x = rng.uniform(-5, 5, (6, 3))
    bl = Beamline()
    np.testing.assert_array_equal(bl.flux_factor_fast(np.asfortranarray(x)), bl.flux_factor_fast(x))


def test_trace_where_is_trace_then_filter(nd280, monkeypatch):
    """trace_where (segments with value[volume, column] > 0 skipped while tracing on the
    grid, filtered afterwards by the sweep) equals tracing everything and filtering; the
    grid's output buffer is re-sized when its first guess is too small; bad values, columns
    or shapes are refused before the compiled kernel sees them."""
    import dipolehnl.detector.geometry as geometry

    rng = np.random.default_rng(11)
    n = 300
    o = rng.uniform(-2, 2, (n, 3))
    d = rng.normal(size=(n, 3))
    nv = len(nd280.volumes)
    value = np.where(rng.uniform(size=(nv, 4)) < 0.5, rng.uniform(1, 2, (nv, 4)), 0.0)
    column = rng.integers(0, 4, n)
    every = nd280.trace(o, d)
    v_all = value[every.volume, column[every.ray]]
    keep = v_all > 0
    assert 0 < keep.sum() < keep.size
    for method, room in (("grid", 16.0), ("grid", 0.0), ("grid", 1e9), ("sweep", 16.0)):
        # 0: the first pass overflows; 1e9: beyond _GRID_ROOM_MAX, counted first
        monkeypatch.setattr(geometry, "_GRID_SEGMENTS_PER_RAY", {False: room, True: room})
        if method == "sweep":
            monkeypatch.setattr(Detector, "_box_grid", lambda self: None)
        seg, val = nd280.trace_where(o, d, value, column)
        np.testing.assert_array_equal(seg.ray, every.ray[keep])
        np.testing.assert_array_equal(seg.t_start_m, every.t_start_m[keep])
        np.testing.assert_array_equal(seg.t_end_m, every.t_end_m[keep])
        np.testing.assert_array_equal(seg.volume, every.volume[keep])
        np.testing.assert_array_equal(val, v_all[keep])
        np.testing.assert_array_equal(np.diff(seg.offsets), np.bincount(every.ray[keep], minlength=n))
    monkeypatch.undo()
    for bad_value, bad_column in (
        (value[:-1], column),  # one volume short
        (value, column[:-1]),  # one ray short
        (value, np.where(column == 0, 4, column)),  # column out of range
        (value, -column - 1),
        (np.full_like(value, np.nan), column),
    ):
        with pytest.raises(InputError):
            nd280.trace_where(o, d, bad_value, bad_column)
