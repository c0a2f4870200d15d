from pathlib import Path

from setuptools import find_packages, setup

version = {}
for line in Path("skda/__init__.py").read_text().splitlines():
    if line.startswith("__version__"):
        exec(line, version)

setup(
    name="skda",
    version=version["__version__"],
    description="Deep domain adaptation and generalization as scikit-learn estimators",
    long_description=Path("README.md").read_text(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    packages=find_packages(include=["skda", "skda.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.6",  # sklearn.utils.validation.validate_data
        # DomainNet extends skorch internals (tests/engine/test_net.py names them): the
        # range tested (1.2.0, 1.3.1, 1.4.0; 1.1.0 cannot unpickle a fitted net under
        # torch's weights_only default); .ci/run also tries the newest release
        "skorch>=1.2,<1.5",
        "torch>=2.1",  # install torch first (see README), so pip never resolves it
        "joblib>=1.2",
    ],
    extras_require={
        # pandas: DataFrame inputs are part of the tested contract; ruff: lint in CI;
        # dask and accelerate: the scaling-out paths are tested, on CPU, in CI;
        # matplotlib: the pictures are rendered by the tests
        "test": ["pytest>=7", "pandas>=1.5", "ruff>=0.5", "dask[distributed]>=2024.1",
                 "accelerate>=0.30", "matplotlib>=3.6", "pillow>=9"],
        # sphinx + numpydoc: API pages from the docstrings; myst-parser: the results page;
        # sphinx-gallery (0.17: sidebar download links): examples/ run into the gallery
        "docs": ["sphinx>=7", "numpydoc>=1.6", "myst-parser>=2", "sphinx-gallery>=0.17",
                 "pydata-sphinx-theme>=0.15"],
        # grid search and cross-validation on a Dask cluster (joblib's dask backend)
        "distributed": ["dask[distributed]>=2024.1"],
        # skda.plot: per-domain bars, feature maps, training curves
        "plot": ["matplotlib>=3.6"],
        # images from files (skda.datasets.ImageRows decodes them with Pillow)
        "images": ["pillow>=9"],
        # mixed precision and multi-GPU training through skorch's AccelerateMixin
        "accelerate": ["accelerate>=0.30"],
        # the anchors of benchmarks/tabular*.py (gradient boosting, RealMLP); never needed
        # by skda itself. pytabkit pulls torch: install torch==2.13.0 first
        "benchmarks": ["lightgbm>=4", "pytabkit>=1.5"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
