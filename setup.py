"""The compiled kernels (Cython) of dipolehnl; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = ("generate", "detector", "beam", "analysis")

setup(
    ext_modules=cythonize(
        [Extension(f"dipolehnl.{p}._kernels", [f"src/dipolehnl/{p}/_kernels.pyx"]) for p in KERNELS],
        language_level=3,
    )
)
