"""skada 0.6.0's shallow DA methods on the Amazon pairs, MNIST/USPS, wine and the hospitals.

``python benchmarks/skada_shallow.py [--seeds 1] [--only B→K]`` from a virtual environment
holding skada (it is not, and must never become, a dependency of skda; see
``skada_side_by_side.py`` for the venv). Set ``SKDA_DATA``; the data are read with
``download_if_missing=False``.

Problems, each read through skda's loader: the 12 Amazon review pairs (400 features, the
data of ``amazon.py``), MNIST→USPS and USPS→MNIST (the JDA subsets' 256 pixels, the data of
``mnist_usps.py``), and wine red→white and white→red (11 features, quality >= 7, the data of
``wine.py``), and the four hospitals of ``fetch_heart_disease``, each the unlabeled target of
the other three in turn (13 features, missing values filled with each column's median over
all rows). The Amazon, wine and hospital features are standardized over the source and
target rows together (transductive, as a pipeline fitted on both would); the digits' pixels
stay in [0, 1] as skda's rows get them (standardized pixels gave the SVC 32.6 and 20.7 on
MNIST→USPS and USPS→MNIST: the near-constant border pixels blow up). Every target row is
unlabeled in training (``y = -1``, skada's ``sample_domain`` negative) and scored. Each
method is skada's
pipeline function with its documented defaults, whose classifier is an RBF ``SVC``: CORAL,
SubspaceAlignment, OTMapping, TransferComponentAnalysis, KMMReweight and
DiscriminatorReweight. Their own baseline is the same ``SVC`` on the source rows alone, so
that each row's gain over it is the adaptation's. No label-free selection is run: skada's
defaults are used as given (skda's rows are its defaults too). Output:
``results/skada_shallow.{md,json,csv}``.
"""

import time
import warnings

import numpy as np
from _common import (
    accuracy_arguments,
    machine_stamp,
    markdown_table,
    mean_sd,
    parallel_records,
    run_and_save,
)
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skda.datasets import (
    fetch_amazon_reviews,
    fetch_heart_disease,
    fetch_mnist_usps,
    fetch_wine_quality,
)

try:
    import skada
except ImportError:  # pragma: no cover - the script says what to install
    skada = None

AMAZON = {"B": "books", "D": "dvd", "E": "electronics", "K": "kitchen"}
AMAZON_PAIRS = [f"{s}→{t}" for s in AMAZON for t in AMAZON if s != t]
HOSPITALS = ("cleveland", "hungarian", "switzerland", "va")
OTHER_PAIRS = ["MNIST→USPS", "USPS→MNIST", "red→white", "white→red",
               *(f"hospitals→{h}" for h in HOSPITALS)]
PAIRS = AMAZON_PAIRS + OTHER_PAIRS
#: where skda's rows on the same problems are
SKDA_TABLES = {"Amazon": "amazon.md", "MNIST/USPS": "mnist_usps.md", "wine": "wine.md",
               "the hospitals (ERM and DANN at each strength, accuracy)":
                   "auto_strength_report.json"}


def load(pair):
    """``(X, y, domains, target)`` of a problem: the source and target rows."""
    source, target = pair.split("→")
    kwargs = dict(download_if_missing=False, return_X_y_domains=True)
    if source in AMAZON:
        source, target = AMAZON[source], AMAZON[target]
        X, y, d = fetch_amazon_reviews(domains=(source, target), **kwargs)
    elif source == "hospitals":  # the other three hospitals are the sources
        X, y, d = fetch_heart_disease(**kwargs)
        X = SimpleImputer(strategy="median").fit_transform(X)
    elif source in ("MNIST", "USPS"):
        source, target = source.lower(), target.lower()
        X, y, d = fetch_mnist_usps(domains=(source, target), **kwargs)
    else:
        X, y, d = fetch_wine_quality(domains=(source, target), binary=True, **kwargs)
    return X, y, d, target
METHODS = ["SVC, source only", "CORAL", "SubspaceAlignment", "OTMapping",
           "TransferComponentAnalysis", "KMMReweight", "DiscriminatorReweight"]


def make(method, seed):
    if method == "SVC, source only":
        return SVC()
    if method == "SubspaceAlignment":  # the one pipeline here that takes a seed
        return skada.SubspaceAlignment(random_state=seed)
    return getattr(skada, method)()


def fit_and_score(pair, method, seed):
    X, y, d, target = load(pair)
    if not pair.startswith(("MNIST", "USPS")):  # pixels stay in [0, 1], as skda's rows get them
        X = StandardScaler().fit_transform(X)
    is_target = d == target
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "SVC, source only":
            model = make(method, seed).fit(X[~is_target], y[~is_target])
            predicted = model.predict(X[is_target])
        else:
            # skada: a positive code per source domain, a negative one for the target
            codes = np.unique(d, return_inverse=True)[1] + 1
            sample_domain = np.where(is_target, -codes, codes)
            model = make(method, seed).fit(X, np.where(is_target, -1, y),
                                           sample_domain=sample_domain)
            predicted = model.predict(X[is_target], sample_domain=sample_domain[is_target])
    return [dict(pair=pair, method=method, seed=seed,
                 accuracy=float(np.mean(predicted == y[is_target])),
                 seconds=time.perf_counter() - start)]


def run(args):
    if skada is None:
        raise SystemExit("This benchmark needs skada==0.6.0 in a separate venv; see the "
                         "docstring of skada_side_by_side.py.")
    pairs = [p for p in PAIRS if not args.only or any(o in p for o in args.only.split(","))]
    jobs = [(p, m, s) for p in pairs for m in METHODS
            for s in range(args.first_seed, args.first_seed + args.seeds)]
    return [r for batch in parallel_records(fit_and_score, jobs, args) for r in batch]


def report(records, args, seconds):
    pairs = [p for p in PAIRS if any(r["pair"] == p for r in records)]

    def cell(method, pair):
        values = [r["accuracy"] for r in records if r["method"] == method and r["pair"] == pair]
        return 100 * np.mean(values)

    baseline = {p: cell(METHODS[0], p) for p in pairs}
    amazon = [p for p in pairs if p in AMAZON_PAIRS]
    others = [p for p in pairs if p in OTHER_PAIRS]
    rows = []
    for method in METHODS:
        means = [100 * np.mean([r["accuracy"] for r in records if r["method"] == method
                                and r["seed"] == s and r["pair"] in amazon])
                 for s in sorted({r["seed"] for r in records})]
        above = sum(cell(method, p) > baseline[p] + 0.5 for p in pairs)
        below = sum(cell(method, p) < baseline[p] - 0.5 for p in pairs)
        rows.append([method, *(f"{cell(method, p):.1f}" for p in amazon),
                     mean_sd(means, 1) if amazon else "—",
                     *(f"{cell(method, p):.1f}" for p in others),
                     "" if method == METHODS[0] else f"{above} / {below}"])
    version = getattr(skada, "__version__", "?")
    lines = [
        "# skada's shallow DA methods: the 12 Amazon pairs, MNIST/USPS, wine, the hospitals", "",
        f"`python benchmarks/skada_shallow.py --seeds {args.seeds}`; skada {version}, each "
        "method its pipeline function with its defaults (RBF SVC as the classifier); inputs "
        "standardized over each problem's rows as in `amazon.md`, but the digits' pixels, "
        "which stay in [0, 1]. Target accuracy (%); the "
        "Amazon mean is over its 12 pairs (± sd over seeds); the last column counts the "
        f"problems (of {len(pairs)}) more than 0.5 points above / below the SVC on the source "
        "rows alone.", "",
        machine_stamp(args.device) + f" Total {seconds / 60:.1f} min.", "",
        markdown_table(["method", *amazon, "Amazon mean", *others, "above / below SVC"],
                       rows), "",
        "skda's rows on the same problems: "
        + ", ".join(f"{name} in `{file}`" for name, file in SKDA_TABLES.items()) + "."]
    return "\n".join(lines) + "\n"


def main():
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=1, epochs=0, only=True)
    run_and_save("skada_shallow", run, report, args)


if __name__ == "__main__":
    main()
