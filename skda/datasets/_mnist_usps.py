"""Loader of the MNIST and USPS digit subsets of the JDA benchmark (16x16 grey, 2 domains)."""

import numpy as np

from ._base import check_domains, domain_bunch, fetch_domains, get_data_home, load_mat

URL = ("https://raw.githubusercontent.com/quanxl97/MDTL/"
       "a69cd4b05e25ec8c4f5f34dc423f051988afef7a/data/MNIST_USPS/")
DOMAINS = ("mnist", "usps")
FILES = {"mnist": "MNIST.mat", "usps": "USPS.mat"}
N_ROWS = {"mnist": 2000, "usps": 1800}

DESCR = """\
MNIST and USPS digits, 16x16, the JDA benchmark subsets
-------------------------------------------------------

The two digit domains built by Long et al. for Joint Distribution Adaptation
(ICCV 2013) and used by many later shallow domain adaptation papers (TJM,
BDA, MEDA, JPDA, ...): 2000 MNIST images (LeCun et al., 1998) and 1800 USPS
images (Hull, 1994), both resized to 16x16 grey levels in [0, 1]. 3800 rows.

The files are MNIST.mat and USPS.mat of GitHub quanxl97/MDTL, commit
a69cd4b (data/MNIST_USPS/), whose arrays are identical to the MNIST_vs_USPS
files of chamwen/JPDA. No license is stated; MNIST is usually distributed
under CC BY-SA 3.0 and USPS has none. Cite the papers above.

Data: 256 pixels (row-major 16x16, float32), or images of shape
(1, 16, 16) with ``images=True``. MNIST pixels are multiples of 1/256 (the
original 8-bit values); USPS pixels are continuous, from a different
scanning and resizing pipeline: part of the domain shift.

Target: the digit, 0-9 (the files' labels 1-10 minus one). Rows per digit:

=======  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===
digit      0    1    2    3    4    5    6    7    8    9
=======  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===
mnist    196  227  207  202  196  179  191  206  195  201
usps     352  241  165  166  166  126  139  172  129  144
=======  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===

USPS is far from balanced (20% zeros). The rows of each file are sorted by
digit: shuffle before splitting.

References: M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu, "Transfer
Feature Learning with Joint Distribution Adaptation", ICCV 2013.
"""


def _read_domain(path, domain):
    fts, labels = load_mat(path, N_ROWS[domain], 256, range(1, 11),
                           f"the JDA file {FILES[domain]}")
    return fts.astype(np.float32), labels - 1


def fetch_mnist_usps(*, data_home=None, download_if_missing=True, domains=DOMAINS,
                     images=False, return_X_y_domains=False):
    """Load the MNIST and USPS digits of the JDA benchmark (16x16 grey, one domain each).

    Reads ``<data_home>/mnist_usps_jda/MNIST.mat`` and ``USPS.mat`` (MATLAB
    files with variables ``fts`` and ``labels``), downloading a missing
    file from GitHub (``quanxl97/MDTL``, at a fixed commit) when
    ``download_if_missing`` allows it.

    =================   ==============================
    Domains             2 (mnist, usps)
    Samples total       3800 (2000, 1800)
    Features            256 pixels (16x16) in [0, 1], float32
    Classes             10 (digits 0-9)
    =================   ==============================

    Parameters
    ----------
    data_home : str, path or None, default=None
        Folder holding ``mnist_usps_jda/``; ``None``: ``SKDA_DATA``, else
        ``~/skda_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download missing files from GitHub. ``False``: a missing file raises
        FileNotFoundError naming where it was looked for.
    domains : sequence of str, default=("mnist", "usps")
        Which domains to load, in this order.
    images : bool, default=False
        ``data`` of shape (n_samples, 1, 16, 16) (one grey channel, upright
        digits) instead of (n_samples, 256).
    return_X_y_domains : bool, default=False
        Return ``(data, target, domains)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` float32 in [0, 1], (n_samples, 256) or (n_samples, 1, 16,
        16), ``target`` (digit 0-9), ``domains`` (domain of each row),
        ``domain_names`` and ``DESCR``. The rows of each domain are sorted
        by digit.
    (data, target, domains) : tuple
        When ``return_X_y_domains`` is True.

    Examples
    --------
    >>> from skda.datasets import fetch_mnist_usps
    >>> digits = fetch_mnist_usps(images=True)  # doctest: +SKIP
    >>> digits.data.shape, digits.domain_names  # doctest: +SKIP
    ((3800, 1, 16, 16), ['mnist', 'usps'])
    """
    domains = check_domains(domains, DOMAINS)
    folder = get_data_home(data_home) / "mnist_usps_jda"
    how_to_get = (
        "The data set is the JDA benchmark's MNIST (2000) and USPS (1800) digits; put "
        f"MNIST.mat and USPS.mat in {folder}.")
    files = {d: (FILES[d], URL + FILES[d]) for d in DOMAINS}
    X, y, names = fetch_domains(folder, domains, files, _read_domain, download_if_missing,
                                how_to_get)
    if images:
        X = X.reshape(-1, 1, 16, 16)
    return domain_bunch(X, y, names, domains, return_X_y_domains, DESCR=DESCR)
