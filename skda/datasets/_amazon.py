"""Loader of the Amazon product reviews (Blitzer et al.), 400-d features, 4 product domains."""

from ._base import check_domains, domain_bunch, fetch_domains, get_data_home, load_mat

URL = ("https://raw.githubusercontent.com/scikit-adaptation/skada-bench/"
       "412086733bf9bd716cd7b48a07561770aa5cc9bf/data/amazon_review/")
DOMAINS = ("books", "dvd", "electronics", "kitchen")
FILES = {"books": "books_400.mat", "dvd": "dvd_400.mat", "electronics": "elec_400.mat",
         "kitchen": "kitchen_400.mat"}
N_ROWS = {"books": 2000, "dvd": 1999, "electronics": 1998, "kitchen": 1999}

DESCR = """\
Amazon product reviews, sentiment, four product domains (400 features)
----------------------------------------------------------------------

Positive or negative sentiment of Amazon product reviews (Blitzer, Dredze
and Pereira, ACL 2007) in four product categories: books, DVDs, electronics
and kitchen appliances. 7996 rows. This is the reduced 400-feature version
(features following Chen et al., ICML 2012, mSDA) of J. Wang's transfer
learning benchmark tables and of skada-bench's "AmazonReview", not the
5000-feature ``amazon.mat`` of the DANN and mSDA papers.

The files are books_400.mat, dvd_400.mat, elec_400.mat and kitchen_400.mat
of GitHub scikit-adaptation/skada-bench, commit 4120867
(data/amazon_review/). No license is stated; cite the papers below.

Data: 400 non-negative features, float64; each row is L1-normalised (sums
to 1) and has about 22-27 non-zeros.

Target: 1 positive, 0 negative. Rows per class:

===========  =====  ========  ========
domain       rows   target 0  target 1
===========  =====  ========  ========
books        2000   1000      1000
dvd          1999   1000      999
electronics  1998   1000      998
kitchen      1999   1000      999
===========  =====  ========  ========

The rows of each domain are sorted by class (all positives, then all
negatives): shuffle before any split.

References: J. Blitzer, M. Dredze and F. Pereira, "Biographies, Bollywood,
Boom-boxes and Blenders: Domain Adaptation for Sentiment Classification",
ACL 2007. M. Chen, Z. Xu, K. Weinberger and F. Sha, "Marginalized Denoising
Autoencoders for Domain Adaptation", ICML 2012.
"""


def _read_domain(path, domain):
    return load_mat(path, N_ROWS[domain], 400, (0, 1), f"the 400-feature file {FILES[domain]}")


def fetch_amazon_reviews(*, data_home=None, download_if_missing=True, domains=DOMAINS,
                         return_X_y_domains=False):
    """Load the Amazon review sentiment data, 400 features (one domain per product type).

    Reads ``<data_home>/amazon_review_400/<file>_400.mat`` (MATLAB files
    with variables ``fts`` and ``labels``), downloading a missing file from
    GitHub (``scikit-adaptation/skada-bench``, at a fixed commit) when
    ``download_if_missing`` allows it. The rows of each domain are sorted
    by class: shuffle before splitting.

    =================   ==============================
    Domains             4 (books, dvd, electronics, kitchen)
    Samples total       7996 (2000, 1999, 1998, 1999)
    Features            400, each row sums to 1
    Classes             2 (positive: 3996 rows)
    =================   ==============================

    Parameters
    ----------
    data_home : str, path or None, default=None
        Folder holding ``amazon_review_400/``; ``None``: ``SKDA_DATA``, else
        ``~/skda_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download missing files from GitHub. ``False``: a missing file raises
        FileNotFoundError naming where it was looked for.
    domains : sequence of str, default=all four
        Which product types to load, in this order.
    return_X_y_domains : bool, default=False
        Return ``(data, target, domains)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (n_samples, 400) float64, ``target`` (1 positive, 0
        negative), ``domains`` (product type of each row), ``domain_names``
        and ``DESCR``.
    (data, target, domains) : tuple
        When ``return_X_y_domains`` is True.

    Examples
    --------
    >>> from skda.datasets import fetch_amazon_reviews
    >>> reviews = fetch_amazon_reviews(domains=["books", "kitchen"])  # doctest: +SKIP
    >>> reviews.data.shape, reviews.domain_names  # doctest: +SKIP
    ((3999, 400), ['books', 'kitchen'])
    """
    domains = check_domains(domains, DOMAINS)
    folder = get_data_home(data_home) / "amazon_review_400"
    how_to_get = (
        "The data set is the 400-feature Amazon review data (books, dvd, elec, kitchen); put "
        f"the files <domain>_400.mat in {folder}.")
    files = {d: (FILES[d], URL + FILES[d]) for d in DOMAINS}
    X, y, names = fetch_domains(folder, domains, files, _read_domain, download_if_missing,
                                how_to_get)
    return domain_bunch(X, y, names, domains, return_X_y_domains, DESCR=DESCR)
