"""Data sets with domain shift.

Synthetic generators need no files and are the embedded default. Loaders of
real data (``fetch_*``) read ``data_home`` (default: the ``SKDA_DATA``
environment variable, else ``~/skda_data``) and download a missing file
only when allowed.
"""

from ._amazon import fetch_amazon_reviews
from ._base import get_data_home
from ._diabetes import fetch_diabetes_readmission
from ._digits import make_colored_digits, make_shifted_digits
from ._heart import fetch_heart_disease
from ._images import ImageRows, load_image_folder
from ._mnist_usps import fetch_mnist_usps
from ._synthetic import make_rotated_moons, make_site_shift
from ._wine import fetch_wine_quality

__all__ = ["ImageRows", "fetch_amazon_reviews", "fetch_diabetes_readmission",
           "fetch_heart_disease", "fetch_mnist_usps", "fetch_wine_quality", "get_data_home",
           "load_image_folder", "make_colored_digits", "make_rotated_moons",
           "make_shifted_digits", "make_site_shift"]
