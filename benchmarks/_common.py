"""What the benchmarks share: the machine stamp, the command line and mean ± sd tables."""

import os
import platform
import warnings

import numpy as np

from skda import UnlabeledRowsWarning

# The protocols hide the target's labels on purpose (ERM and the DG methods then train on
# the source rows): the warning that guards users against a -1 meant as a class is noise here.
warnings.simplefilter("ignore", UnlabeledRowsWarning)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

#: The strength the method tables were measured at: lambda_=1, the UDA methods' default
#: until lambda_="auto" replaced it (the study that chose "auto", on these tables' problems,
#: is auto_strength.py). Pinned so that a table reruns as it was measured, at one fit a run.
FIXED_STRENGTH = {"lambda_": 1.0}


def fixed_strength_of(Estimator):
    """:data:`FIXED_STRENGTH` where ``Estimator`` (any callable) defaults to "auto", else {}."""
    from skda.methods import DomainEstimator
    from skda.utils import estimator_info

    if not (isinstance(Estimator, type) and issubclass(Estimator, DomainEstimator)):
        return {}
    info = estimator_info(Estimator)
    return dict(FIXED_STRENGTH) if info.strength_default == "auto" else {}


def at_fixed_strength(Estimator, params=None):
    """``params`` (a dict), plus :data:`FIXED_STRENGTH` where ``Estimator`` defaults to "auto"."""
    return {**fixed_strength_of(Estimator), **(params or {})}


def registered_methods(*settings, suffix=""):
    """``{display name + suffix: class}`` of skda's classifiers that serve any of ``settings``.

    From the registry (:func:`skda.utils.all_estimators`), in its order, the baseline
    first: a new method enters every benchmark that lists methods this way.
    ``settings`` are names from :data:`skda.utils.SETTINGS`.
    """
    from skda.utils import all_estimators, estimator_info

    infos = [(estimator_info(Estimator), Estimator)
             for _, Estimator in all_estimators("classifier")]
    # sorted is stable: the baseline first, the others in the registry's order
    infos.sort(key=lambda pair: "baseline" not in pair[0].settings)
    return {info.display_name + suffix: Estimator for info, Estimator in infos
            if set(info.settings) & set(settings)}


def machine_stamp(device="cpu"):
    """One line naming the machine and the versions that produced a result."""
    import sklearn
    import skorch
    import torch

    gpu = f", GPU {torch.cuda.get_device_name()}" if str(device).startswith("cuda") else ""
    return (f"Machine: {os.cpu_count()} CPU cores{gpu}, device {device}; python "
            f"{platform.python_version()}, torch {torch.__version__}, skorch "
            f"{skorch.__version__}, scikit-learn {sklearn.__version__}.")


def run_stamp(args, seconds):
    """:func:`machine_stamp` with the processes, threads and wall time of a run.

    ``args`` are the parsed :func:`accuracy_arguments` (``device``, ``jobs``,
    ``threads``); ``seconds`` is the run's wall time.
    """
    stamp = machine_stamp(args.device) + f" {args.jobs} process(es) of {args.threads} torch " \
        "thread(s). "
    if getattr(args, "merge", False):  # the wall time is that of the methods rerun only
        return stamp + (f"{seconds / 60:.1f} min for {', '.join(args.methods)}; the other rows "
                        "are the saved results of an earlier run (`--merge`).")
    return stamp + f"Total {seconds / 60:.1f} min."


def mean_sd(values, digits=3):
    """``mean ± sd`` (population sd) of a list of accuracies, ``digits`` decimals."""
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def epochs_argument(value):
    """``--epochs``: an int, or ``auto`` (the estimators' default training length)."""
    return value if value == "auto" else int(value)


def accuracy_arguments(description, seeds, epochs, first_seed=0, only=False, methods=None,
                       extra=None):
    """The command line every accuracy benchmark takes.

    ``extra(parser)``, when given, adds a benchmark's own arguments.

    With ``methods`` (the benchmark's method names) it also takes
    ``--methods`` (a comma-separated subset, default all; ``args.methods``
    is then a list) and ``--merge`` (see :func:`merged_records`).
    """
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--first-seed", type=int, default=first_seed,
                        help=f"seeds are first-seed, first-seed + 1, ... (default {first_seed})")
    parser.add_argument("--epochs", type=epochs_argument, default=epochs,
                        help=f"epochs per fit, or 'auto' (default {epochs})")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads of each process (default 2)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="fits run in parallel processes, each with --threads torch "
                             "threads (default 1)")
    if only:
        parser.add_argument("--only", default="",
                            help="comma-separated parts of the problem names to run (default: all)")
    parser.add_argument("--out", default=RESULTS,
                        help="folder of the output files (default: results/)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from the saved <out>/<name>.json, without "
                             "running anything")
    if methods is not None:
        parser.add_argument("--methods", default=None,
                            help="comma-separated subset (default all) of: "
                                 + "; ".join(methods))
        parser.add_argument("--merge", action="store_true",
                            help="keep the saved records of the methods this run leaves out")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    if methods is not None:
        # the default is every name as given: some names hold commas of their own
        args.methods = list(methods) if args.methods is None else [
            m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [m for m in args.methods if m not in methods]
        if unknown:
            parser.error(f"unknown method(s) {unknown}; choose from {list(methods)}")
    return args


def merged_records(args, name, keep=lambda record: True):
    """With ``--merge``, the saved ``<out>/<name>.json`` records of the methods not rerun.

    Only records that ``keep`` accepts are kept, and none of the methods in
    ``args.methods``: a run of some methods then reports a whole table.
    Without ``--merge``, an empty list.
    """
    import json

    if not args.merge:
        return []
    path = os.path.join(args.out, name + ".json")
    if not os.path.exists(path):
        print(f"note: --merge found no {path}; nothing merged", flush=True)
        return []
    with open(path) as f:
        saved = json.load(f)
    # older records lack the epochs: the file's
    kept = [{**r, "epochs": r.get("epochs", saved.get("epochs"))} for r in saved["records"]
            if r["method"] not in args.methods and keep(r)]
    print(f"note: merged {len(kept)} records of "
          f"{', '.join(dict.fromkeys(r['method'] for r in kept)) or 'no method'} from {path}",
          flush=True)
    return kept


def _call_with_threads(threads, fn, args):
    import torch

    torch.set_num_threads(threads)
    return fn(*args)


def parallel_records(fn, jobs, args):
    """``[fn(*job) for job in jobs]``, in ``args.jobs`` processes of ``args.threads`` threads.

    Each result is printed as a JSON line when it arrives; the list keeps
    the order of ``jobs``, so that reports do not depend on timing.
    """
    import json

    from joblib import Parallel, delayed

    if args.jobs == 1:
        results = []
        for job in jobs:
            results.append(fn(*job))
            print(json.dumps(results[-1]), flush=True)
        return results
    results = Parallel(n_jobs=args.jobs, return_as="generator")(
        delayed(_call_with_threads)(args.threads, fn, job) for job in jobs)
    collected = []
    for result in results:
        print(json.dumps(result), flush=True)
        collected.append(result)
    return collected


def best_index(scores):
    """Index of the best score; ties go to the first (smallest lambda_), as in GridSearchCV."""
    scores = np.asarray(scores, dtype=float)
    return int(np.nanargmax(scores)) if np.isfinite(scores).any() else None


def lambda_scores(model, X, y, domains, lambdas, scorers, seed):
    """Each label-free scorer's validation score of ``model`` per ``lambda_`` of ``lambdas``.

    ``GridSearchCV(refit=False)`` on one split of
    :class:`skda.model_selection.TrainingDomainValidation` (``random_state=seed``),
    ``scorers`` as its ``scoring``; a fit that fails scores NaN, and the scorers'
    warnings on separable domains (IWCV, DEV) are silenced (the reports say so).
    Returns ``{scorer name: [mean validation score per lambda_]}``.
    """
    import warnings

    from sklearn.model_selection import GridSearchCV

    from skda.model_selection import TrainingDomainValidation

    search = GridSearchCV(model, {"lambda_": lambdas}, scoring=scorers, refit=False,
                          cv=TrainingDomainValidation(random_state=seed), error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X, y, groups=domains, domains=domains)
    return {name: [float(v) for v in search.cv_results_[f"mean_test_{name}"]]
            for name in scorers}


def gain_kept(records, picked):
    """Share of the oracle's gain over lambda_=0 that the ``picked`` accuracies keep.

    ``records[i]["oracle"]`` holds run i's target accuracy per lambda_ of the grid,
    lambda_=0 first; gains and losses are summed over the runs.
    """
    base = np.array([r["oracle"][0] for r in records])
    gain = np.sum([np.nanmax(r["oracle"]) for r in records] - base)
    return float(np.nansum(np.asarray(picked, dtype=float) - base) / gain) if gain > 0 \
        else np.nan


def save_csv(records, path):
    """One CSV row per record; list values are written as JSON."""
    import csv
    import json

    columns = list(dict.fromkeys(key for record in records for key in record))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v
                             for k, v in record.items()})


def grouped(records, group, value, method="method"):
    """``{group(record): {record[method]: [record[value], ...]}}``, for :func:`bar_chart`."""
    groups = {}
    for r in records:
        groups.setdefault(group(r), {}).setdefault(r[method], []).append(r[value])
    return groups


def bar_chart(groups, path, ylabel, title=""):
    """Mean ± sd bars: ``groups`` is ``{group: {method: [values over seeds]}}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(dict.fromkeys(m for per_method in groups.values() for m in per_method))
    positions = np.arange(len(groups))
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * len(groups) * max(1, len(methods) / 4), 3.4))
    for k, method in enumerate(methods):
        values = [np.asarray(per_method.get(method, []), dtype=float)
                  for per_method in groups.values()]
        values = [v[np.isfinite(v)] for v in values]
        ax.bar(positions + (k - (len(methods) - 1) / 2) * width,
               [v.mean() if v.size else np.nan for v in values], width,
               yerr=[v.std() if v.size else np.nan for v in values], capsize=2, label=method)
    ax.set_xticks(positions, [str(g) for g in groups])
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="x-small", ncol=min(len(methods), 4), loc="lower center",
              bbox_to_anchor=(0.5, 1.0 if not title else 1.08), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def run_and_save(name, run, report, args, plot=None):
    """Run a benchmark, print its report, save ``<out>/<name>.md``, ``.json``, ``.csv``.

    ``run`` takes the parsed arguments, or ``(seeds, epochs, device)``;
    ``report`` takes ``(records, args, seconds)``, or ``(records, seeds,
    epochs, device, seconds)``;
    ``plot(records, path)``, when given, draws ``<out>/<name>.png``.
    """
    import inspect
    import json
    import time

    import torch

    torch.set_num_threads(args.threads)
    out = os.path.join(args.out, name)
    start = time.perf_counter()
    if getattr(args, "report_only", False):
        with open(out + ".json") as f:
            saved = json.load(f)
        records = saved["records"]
        # older files lack the wall time: the fits' own times over the processes
        seconds = saved.get("seconds") or sum(
            r.get("seconds", 0) for r in records if isinstance(r, dict)) / args.jobs
    else:
        if len(inspect.signature(run).parameters) == 1:
            records = run(args)
        else:
            records = run(args.seeds, args.epochs, args.device)
        seconds = time.perf_counter() - start
    if len(inspect.signature(report).parameters) == 3:
        text = report(records, args, seconds)
    else:
        text = report(records, args.seeds, args.epochs, args.device, seconds)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(out + ".md", "w") as f:
        f.write(text)
    with open(out + ".json", "w") as f:
        json.dump({"seeds": args.seeds, "epochs": args.epochs, "device": args.device,
                   "seconds": seconds, "records": records}, f, indent=1)
    save_csv(records, out + ".csv")
    if plot is not None:
        plot(records, out + ".png")


def task_tables(records, metrics, methods, tasks, heading):
    """Markdown lines: per metric, ``heading(metric)`` and a methods x tasks table of mean ± sd.

    ``records`` are dicts with ``task``, ``method`` and a value per metric.
    """
    parts = []
    for metric in metrics:
        rows = [[method, *(mean_sd([r[metric] for r in records
                                    if r["task"] == task and r["method"] == method])
                           for task in tasks)] for method in methods]
        parts += ["", f"## {heading(metric)}", "", markdown_table(["method", *tasks], rows)]
    return parts
