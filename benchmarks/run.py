"""Run the benchmark suite: ``python -m benchmarks`` or ``python benchmarks/run.py``.

``--quick`` runs every benchmark small (one or two seeds, few epochs: a few
minutes on a CPU) into ``results/quick/``, leaving the saved full results
alone. Without it, the full protocols run (about an hour on 2 CPU cores;
meant for a GPU with ``--device cuda``) into ``results/``, and the docs'
results page (``docs/results.md``, read by Sphinx through MyST-Parser) is
regenerated from the Markdown files. Each benchmark writes Markdown, JSON,
CSV and (for the accuracy ones) a PNG, stamped with device, versions and
seeds, into the folder given by ``--out``. ``--only a,b`` runs a subset;
``--docs`` only regenerates the results page.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
DOCS = os.path.normpath(os.path.join(HERE, os.pardir, "docs"))
DOCS_PAGE = os.path.join(DOCS, "results.md")

#: name: (script, full-mode arguments, quick-mode arguments)
SUITE = {
    "defaults": ("defaults.py", [], ["--seeds", "1", "--epochs", "2", "--only", "moons,heart"]),
    "mnist_usps": ("mnist_usps.py", [], ["--seeds", "1", "--epochs", "1"]),
    "amazon": ("amazon.py", [], ["--seeds", "1", "--epochs", "1"]),
    "wine": ("wine.py", [], ["--seeds", "1", "--epochs", "5"]),
    "wine_regression": ("wine_regression.py", [], ["--seeds", "1", "--epochs", "3"]),
    "dann_moons": ("dann_moons.py", [], ["--seeds", "2", "--epochs", "100"]),
    "digits_lodo": ("digits_lodo.py", [], ["--seeds", "1", "--epochs", "3"]),
    "l2aot_development": ("l2aot_development.py", [], ["--seeds", "1", "--epochs", "1"]),
    "ccsa_fewshot": ("ccsa_fewshot.py", [], ["--seeds", "1", "--epochs", "5"]),
    "sagnet_spurious_colour": ("sagnet_spurious_colour.py", [],
                               ["--seeds", "1", "--epochs", "5"]),
    "model_selection": ("model_selection.py", [], ["--seeds", "1", "--epochs", "3"]),
    "auto_strength_dev": ("auto_strength.py", ["--suite", "dev"],
                          ["--suite", "dev", "--epochs", "2"]),
    "auto_strength_report": ("auto_strength.py", ["--suite", "report"],
                             ["--suite", "report", "--epochs", "2"]),
    "auto_strength_dg": ("auto_strength.py", ["--suite", "dg", "--seeds", "2"],
                         ["--suite", "dg", "--epochs", "2", "--only", "va"]),
    "clinical_loso": ("clinical_loso.py", [], ["--seeds", "1", "--epochs", "20"]),
    "site_confounding": ("site_confounding.py", [], ["--seeds", "1", "--epochs", "5"]),
    "tabular": ("tabular.py", [], ["--seeds", "1", "--epochs", "2", "--only", "heart"]),
    "speed": ("speed.py", [], ["--repeats", "1", "--epochs", "2", "--n", "4000"]),
    "speed_images": ("speed_images.py", [], ["--repeats", "1", "--epochs", "2", "--n", "1024"]),
    "image_files": ("image_files.py", [], ["--quick"]),
}

#: order and titles of the results page
PAGE = [
    ("defaults", "How the defaults were chosen: the development suite"),
    ("tabular_defaults", "How the tabular defaults were chosen: input scaling, weight decay"),
    ("tabular", "Tables: every method on raw columns beside logistic regression and "
                "gradient boosting"),
    ("tabular_lambda_1", "Tables at lambda_=1: the unsupervised methods at the papers' "
                         "fixed strength"),
    ("tabular_scale", "Tables at scale: 100k and 1M rows of the diabetes data's width"),
    ("mnist_usps", "MNIST/USPS unsupervised DA beside JDA and MEDA"),
    ("ccsa_fewshot", "CCSA: MNIST to USPS with a few labeled USPS images"),
    ("amazon", "Amazon reviews: 12 pairs beside EasyTL"),
    ("model_selection", "Choosing lambda_ without target labels"),
    ("auto_strength_report", "lambda_=\"auto\": the strength chosen without target labels, "
                             "every UDA method"),
    ("auto_strength_report_rerun", "lambda_=\"auto\": the report suite's wine, hospital "
                                   "and site-shift problems rerun under the current defaults"),
    ("auto_strength_dev", "lambda_=\"auto\": the development suite its rule was chosen on"),
    ("auto_strength_dg", "lambda_=\"auto\" in domain generalization: hospitals and site "
                         "shift, the held-out domain never seen"),
    ("wine", "Wine: red and white"),
    ("wine_regression", "Wine quality as a regression: red and white"),
    ("skada_side_by_side", "skada 0.6.0 side by side"),
    ("skada_side_by_side_2000_steps", "skada 0.6.0 side by side: the Amazon pairs at the "
                                      "estimators' default length (about 2,000 steps)"),
    ("skada_side_by_side_2000_steps_digits", "skada 0.6.0 side by side: MNIST/USPS at the "
                                             "estimators' default length (about 2,000 steps)"),
    ("skada_methods", "skada 0.6.0 side by side: Deep CORAL, MMD, CDAN and MCC"),
    ("skada_shallow", "skada 0.6.0's shallow methods: Amazon, MNIST/USPS, wine, hospitals"),
    ("dann_moons", "DANN paper: rotated moons, with every UDA method"),
    ("clinical_loso", "Clinical: leave one hospital out"),
    ("site_confounding", "Site-label confounding: the shortcut through the site"),
    ("digits_lodo", "DomainBed-style leave-one-domain-out on shifted digits"),
    ("digits_lodo_style_cuda", "Leave-one-domain-out on the digits' colour and texture "
                               "styles: on an H200 GPU"),
    ("l2aot_development", "L2A-OT's development problems (kept out of every table)"),
    ("sagnet_spurious_colour", "SagNet: colour as a spurious cue"),
    ("speed_cpu", "Speed against hand-written loops: tabular"),
    ("speed_images_cpu", "Speed against hand-written loops: images"),
    ("image_files_cpu", "Images from files and uint8 arrays: accuracy, speed and memory on "
                        "CPU"),
    ("image_files_cuda", "Images from files and uint8 arrays, ResNet-50 at 224x224: on an "
                         "H200 GPU"),
    ("grid_search_scaling", "Grid search on several workers"),
]

#: saved results that predate the current defaults (issue 11) and were not rerun since
FORMER_DEFAULTS = {"model_selection", "sagnet_spurious_colour", "speed_images_cpu"}
FORMER_NOTE = ("*Measured before the current defaults (with a fixed number of epochs, Adam "
               "beta1 = 0.9 and the former ConvNet) and not rerun since: these figures are "
               "not those of the estimators as they are now.*")
#: saved results of tabular data measured before inputs were scaled and weight-decayed by
#: default (issue 23) and not rerun since
FORMER_TABULAR = {"defaults", "amazon", "wine", "wine_regression", "dann_moons", "clinical_loso",
                  "site_confounding"}
FORMER_TABULAR_NOTE = (
    "*Tabular rows measured before the estimators standardized their inputs "
    "(`input_scaling=\"standard\"`) and regularized their weights by default on tabular X, "
    "and not rerun since: the estimators now give other figures on these rows (image rows "
    "are unchanged).*")
#: saved results whose tabular rows trained at weight decay 3e-3, the tabular default before
#: optimizer__weight_decay="auto", and were not rerun since
FORMER_DECAY = {"auto_strength_report", "auto_strength_dg"}
FORMER_DECAY_NOTE = (
    "*Tabular rows measured at weight decay 3e-3, the tabular default before the weight "
    "decay was chosen at each fit (`optimizer__weight_decay=\"auto\"`), and not rerun "
    "since: a rerun trains at the value each fit chooses (image rows are unchanged).*")


def _command(name, quick, device, out):
    script, full, small = SUITE[name]
    return [sys.executable, os.path.join(HERE, script), *(small if quick else full),
            "--device", device, "--out", out]


def shift_headings(text, levels=1):
    """Markdown ``text`` with every ATX heading ``levels`` deeper (``## x`` -> ``### x``).

    Lines inside fenced code blocks are left alone.
    """
    out, fence = [], None
    for line in text.splitlines():
        marker = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if marker and (fence is None or marker.group(1).startswith(fence)):
            fence = marker.group(1)[:3] if fence is None else None
        elif fence is None and re.match(r"^#{1,6}(\s|$)", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out) + "\n"


def docs_page(results=RESULTS, page_dir=DOCS):
    """The text of ``docs/results.md`` (MyST), from the saved Markdown results and pictures."""
    parts = [
        "% This page is generated by `python benchmarks/run.py` (or `--docs`); do not edit it.",
        "",
        "# Benchmark results",
        "",
        "Every table below is read from `benchmarks/results/`, as the benchmark wrote "
        "it: what was measured, on which machine, with which seeds, including where a "
        "method loses to ERM. Rerun one with the command in its first line, or all of "
        "them with `python -m benchmarks` (`--quick` for a smoke run).",
        "",
        "Published figures stand beside ours where a paper used the same data and "
        "protocol: MNIST/USPS (JDA subsets) beside 1NN, JDA and MEDA (MEDA paper, "
        "Table 3), CCSA's MNIST-to-USPS few-shot protocol beside the CCSA paper, and "
        "the 400-feature Amazon reviews beside EasyTL. Each table names its source. "
        "The DANN paper reports no accuracy for the moons (a picture only), and no "
        "paper reports these methods on the heart-disease hospitals or on wine.",
        "",
        "DANN, CDANN, CDAN, CAADA, Deep CORAL, MMD and MCC default to "
        "`lambda_=\"auto\"`, the strength chosen without target labels. Outside the "
        "`lambda_=\"auto\"` tables, their rows were measured at the fixed `lambda_=1`, "
        "their default before, which the scripts pin so that a table reruns as it was "
        "measured (one fit a run instead of six).",
        "",
    ]
    for name, title in PAGE:
        md = os.path.join(results, name + ".md")
        if not os.path.exists(md):
            continue
        with open(md) as f:
            body = f.read().split("\n", 1)[1]  # the file's own title is replaced
        parts += [f"## {title}", ""]
        if name in FORMER_DEFAULTS:
            parts += [FORMER_NOTE, ""]
        if name in FORMER_TABULAR:
            parts += [FORMER_TABULAR_NOTE, ""]
        if name in FORMER_DECAY:
            parts += [FORMER_DECAY_NOTE, ""]
        parts += [shift_headings(body.strip("\n")), ""]
        png = os.path.join(results, name + ".png")
        if os.path.exists(png):
            relative = os.path.relpath(png, page_dir).replace(os.sep, "/")
            parts += [f"![{title}]({relative})", ""]
    return "\n".join(parts).rstrip() + "\n"


def write_docs_page(path=DOCS_PAGE):
    with open(path, "w") as f:
        f.write(docs_page())
    return os.path.normpath(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs into results/quick/")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", default="", help="comma-separated subset of " + ", ".join(SUITE))
    parser.add_argument("--out", default=None, help="output folder")
    parser.add_argument("--docs", action="store_true", help="only regenerate docs/results.md")
    args = parser.parse_args(argv)
    if args.docs:
        print("wrote", write_docs_page())
        return 0
    names = [n for n in args.only.split(",") if n] or list(SUITE)
    unknown = [n for n in names if n not in SUITE]
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {list(SUITE)}")
    out = args.out or (os.path.join(RESULTS, "quick") if args.quick else RESULTS)
    os.makedirs(out, exist_ok=True)
    failed = []
    for name in names:
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        done = subprocess.run(_command(name, args.quick, args.device, out), cwd=HERE,
                              stdout=subprocess.DEVNULL)
        print(f"== {name}: {'ok' if done.returncode == 0 else 'FAILED'} in "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        if done.returncode:
            failed.append(name)
    if os.path.abspath(out) == os.path.abspath(RESULTS):
        print("wrote", write_docs_page())
    print(f"results in {out}" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
