"""Data sets with domain shift.

Synthetic generators need no files and are the embedded default.
"""

from ._digits import make_colored_digits, make_shifted_digits
from ._synthetic import make_rotated_moons

__all__ = ["make_colored_digits", "make_rotated_moons", "make_shifted_digits"]
