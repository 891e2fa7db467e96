"""The published claims the report compares with, each with its source (data, not prose)."""
from __future__ import annotations

PAPER = "arXiv:2412.15051"

#: Headline claims per analysis: world-leading mass range (MeV) and the verdict on the
#: MiniBooNE dipole solution.
PAPER_CLAIMS: dict[str, dict] = {
    "t2k2019": {"world_leading_MeV": (390.0, 743.0), "miniboone": "disfavoured at 95% CL",
                "source": f"{PAPER}, abstract and Sec. V"},
    "t2k+t2k2": {"world_leading_MeV": (148.0, 860.0), "miniboone": "excluded at 5 sigma",
                 "source": f"{PAPER}, abstract and Sec. V"},
}

#: Where the paper says the 2019 signal changes from rock- to detector-produced (MeV).
PAPER_PRODUCTION_CLAIM: dict = {"turnover_MeV": 200.0, "detector_dominated_above_MeV": 300.0,
                                "source": f"{PAPER}, Sec. IV (production-vertex discussion, Fig. 2)"}
