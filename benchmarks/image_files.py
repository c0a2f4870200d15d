"""Images from files and uint8 arrays: accuracy, images per second and host memory.

Not a test: run ``python benchmarks/image_files.py`` (set ``SKDA_DATA``; add
``--device cuda`` on a GPU). Writes ``<out>/image_files_<device>.md`` and
``.json``. Three parts:

1. **Files against arrays.** The JDA MNIST (2000) and USPS (1800) 16x16
   digits, quantized to uint8 pixels and written as PNG files into a
   temporary folder per domain (``root/<domain>/<class>/<n>.png``, read back
   with :func:`skda.datasets.load_image_folder`). MNIST -> USPS, USPS
   unlabeled in training and scored (transductive, as ``mnist_usps.py``).
   ERM (source only) and DANN (``lambda_=1``) train on the same pixels given
   four ways: a float32 array (pixels / 255, exactly what the files decode
   to), the uint8 array (0..255, kept uint8 and converted per batch), the
   files decoded in the training process (``num_workers=0``) and the files
   decoded by ``--workers`` DataLoader workers. Images per second: training
   images (the batch sizes summed over the epochs) over the epochs' summed
   duration (skorch's ``dur``), so prediction and set-up are left out.
2. **Host memory** (CPU only): peak resident memory of a fresh process that
   builds an image array of ``--memory-n`` random RGB images of 64x64 pixels
   and fits ERM on it for one epoch (batches of 64), minus the process's
   resident memory before the array was built (torch and skda imported):
   what the data and the fit cost together. Given the uint8 array, the float32 array, and, with
   ``--compare-with DIR`` (a checkout of an earlier skda), both again under
   that code: the figures of the path before uint8 arrays stayed uint8.
3. **ResNet-18 from files**: DANN (``lambda_=1``) with ``module="resnet18"``
   (random initialisation: no pretrained weights are downloaded here) on
   the same files, end to end.
4. **ResNet-50 at 224x224** (CUDA only): DANN with ``module="resnet50"`` on
   ``--full-size-n`` random RGB images, as a uint8 array in float32, under
   bf16 autocast (``accelerator=Accelerator(mixed_precision="bf16")``), the
   same in channels-last layout (``module__channels_last=True``), and from
   JPEG files decoded by ``--workers`` workers: images per second and peak
   GPU memory.

Torch threads are pinned (``--threads``, default 2); the DataLoader workers
are processes of their own, beside them.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from _common import RESULTS, machine_stamp, markdown_table

PARTS = ("files", "memory", "resnet", "full_size")


def digit_files(root):
    """The MNIST/USPS pixels (uint8, (n, 1, 16, 16)) written as PNGs; returns the data."""
    from PIL import Image

    from skda.datasets import fetch_mnist_usps, load_image_folder

    data = fetch_mnist_usps(download_if_missing=False)
    pixels = np.round(data.data.reshape(-1, 1, 16, 16) * 255).astype(np.uint8)
    for i, (image, label, domain) in enumerate(zip(pixels, data.target, data.domains, strict=True)):
        folder = os.path.join(root, str(domain), str(label))
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(image[0]).save(os.path.join(folder, f"{i:05d}.png"))
    paths, labels, domains = load_image_folder(root)
    order = np.array([int(os.path.basename(p)[:5]) for p in paths])
    return paths, labels.astype(int), domains, pixels[order]


def images_per_second(clf, skip=0):
    """Training images per second over the epochs after the first ``skip``."""
    history = clf.net_.history[skip:]
    images = sum(sum(b["train_batch_size"] for b in epoch["batches"]) for epoch in history)
    return images / sum(epoch["dur"] for epoch in history)


def fit_and_score(method, X, y, domains, target, params):
    from skda import DANNClassifier, ERMClassifier
    from skda._validation import unlabeled_rows_expected

    y_train = np.where(target, -1, y)
    if method == "ERM":
        clf, keep = ERMClassifier(**params), ~target
        start = time.perf_counter()
        clf.fit(X[keep], y_train[keep], domains[keep])
    else:
        clf = DANNClassifier(lambda_=1.0, **params)
        start = time.perf_counter()
        with unlabeled_rows_expected():
            clf.fit(X, y_train, domains)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(clf.predict(X[target]) == y[target]))
    return dict(accuracy=accuracy, images_per_s=images_per_second(clf), fit_s=seconds)


def files_part(args, root, records):
    from skda.datasets import ImageRows

    paths, y, domains, pixels = digit_files(root)
    target = domains == "usps"
    inputs = {
        "float32 array": pixels.astype(np.float32) / 255,
        "uint8 array": pixels,
        "files, 0 workers": ImageRows(paths),
        f"files, {args.workers} workers": ImageRows(paths, num_workers=args.workers),
    }
    if args.device.startswith("cuda"):
        from skda.engine import batching

        inputs["uint8 array streamed from the host"] = pixels
    for seed in range(args.seeds):
        for method in ("ERM", "DANN"):
            for name, X in inputs.items():
                params = dict(max_epochs=args.epochs, batch_size=128, random_state=seed,
                              device=args.device)
                share = None
                if "streamed" in name:  # as if X did not fit on the device
                    share, batching.DEVICE_MEMORY_SHARE = batching.DEVICE_MEMORY_SHARE, 0.0
                try:
                    out = fit_and_score(method, X, y, domains, target, params)
                finally:
                    if share is not None:
                        batching.DEVICE_MEMORY_SHARE = share
                records.append(dict(part="files", method=method, input=name, seed=seed, **out))
                print(records[-1], flush=True)
    return paths, y, domains


MEMORY_SCRIPT = r"""
import json, resource, sys, numpy as np, torch
torch.set_num_threads(int(sys.argv[3]))
from skda import ERMClassifier
n, dtype = int(sys.argv[1]), sys.argv[2]
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
before = rss()
rng = np.random.RandomState(0)
X = rng.randint(0, 256, size=(n, 3, 64, 64), dtype=np.uint8)
if dtype == "float32":
    X = X.astype(np.float32)
y = rng.randint(10, size=n)
domains = np.repeat([0, 1], n // 2)
ERMClassifier(max_epochs=1, batch_size=64, random_state=0, device="cpu").fit(X, y, domains)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(data_mib=X.nbytes / 2**20, before_mib=before, peak_mib=peak)))
"""


def memory_part(args, records):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    codes = [("this checkout", here)]
    if args.compare_with:
        codes.append((f"before ({args.compare_with_label})", os.path.abspath(args.compare_with)))
    for code, path in codes:
        for dtype in ("uint8", "float32"):
            env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": str(args.threads)}
            out = subprocess.run(
                [sys.executable, "-c", MEMORY_SCRIPT, str(args.memory_n), dtype,
                 str(args.threads)], env=env, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            records.append(dict(part="memory", code=code, input=f"{dtype} array", **result,
                                fit_peak_mib=result["peak_mib"] - result["before_mib"]))
            print(records[-1], flush=True)


def resnet_part(args, paths, y, domains, records):
    from skda.datasets import ImageRows

    target = domains == "usps"
    X = ImageRows(paths, num_workers=args.workers)
    for seed in range(args.seeds):
        params = dict(module="resnet18", max_epochs=args.resnet_epochs, batch_size=128,
                      random_state=seed, device=args.device)
        out = fit_and_score("DANN", X, y, domains, target, params)
        records.append(dict(part="resnet", method="DANN, ResNet-18", input="files",
                            seed=seed, **out))
        print(records[-1], flush=True)


def full_size_part(args, root, records):
    """ResNet-50 DANN on 224x224 RGB images: float32 against bf16, arrays against files."""
    import torch
    from PIL import Image

    from skda import DANNClassifier
    from skda.datasets import ImageRows

    n = args.full_size_n
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, size=(n, 3, 224, 224), dtype=np.uint8)
    y = rng.randint(10, size=n)
    domains = np.repeat([0, 1], n // 2)
    y_train = np.where(domains == 1, -1, y)
    folder = os.path.join(root, "full_size")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, image in enumerate(pixels):
        paths.append(os.path.join(folder, f"{i:05d}.jpg"))
        Image.fromarray(image.transpose(1, 2, 0)).save(paths[-1], quality=90)
    files = ImageRows(paths, num_workers=args.workers)
    runs = {"uint8 array, float32": (pixels, None, False),
            "uint8 array, bf16 autocast": (pixels, "bf16", False),
            "uint8 array, bf16 autocast, channels last": (pixels, "bf16", True),
            f"JPEG files ({args.workers} workers), bf16 autocast, channels last":
                (files, "bf16", True)}
    for name, (X, precision, channels_last) in runs.items():
        accelerator = None
        if precision:
            from accelerate import Accelerator

            accelerator = Accelerator(mixed_precision=precision)
        torch.cuda.reset_peak_memory_stats()
        clf = DANNClassifier(module="resnet50", module__channels_last=channels_last,
                             lambda_=1.0, max_epochs=args.full_size_epochs, batch_size=128,
                             random_state=0, accelerator=accelerator, device=args.device)
        start = time.perf_counter()
        clf.fit(X, y_train, domains)
        records.append(dict(part="full_size", input=name, n=n,
                            images_per_s=images_per_second(clf, skip=1),
                            fit_s=time.perf_counter() - start,
                            peak_gpu_gib=torch.cuda.max_memory_allocated() / 2**30))
        print(records[-1], flush=True)


def report(records, args, seconds):
    lines = [f"# Images from files and uint8 arrays ({args.device})", "",
             machine_stamp(args.device) + f" {args.threads} torch thread(s); total "
             f"{seconds / 60:.1f} min.", ""]
    files = [r for r in records if r["part"] == "files"]
    if files:
        lines += ["## Files against arrays: MNIST -> USPS, the same pixels given four ways", "",
                  f"{args.epochs} epochs of 128 images, {args.seeds} seed(s); accuracy on "
                  "USPS (unlabeled in training), training images per second (mean over "
                  "seeds), and that speed against the float32 array's.", ""]
        rows = []
        for method in ("ERM", "DANN"):
            base = np.mean([r["images_per_s"] for r in files
                            if r["method"] == method and r["input"] == "float32 array"])
            for name in dict.fromkeys(r["input"] for r in files):
                rs = [r for r in files if r["method"] == method and r["input"] == name]
                acc = np.array([r["accuracy"] for r in rs])
                speed = np.mean([r["images_per_s"] for r in rs])
                rows.append([method, name, f"{acc.mean():.3f} ± {acc.std():.3f}",
                             f"{speed:,.0f}", f"{speed / base:.2f}x"])
        lines += [markdown_table(["method", "X", "USPS accuracy", "images/s", "vs float32"],
                                 rows), ""]
    memory = [r for r in records if r["part"] == "memory"]
    if memory:
        lines += ["## Host memory of one fit", "",
                  f"ERM, one epoch on {args.memory_n} random RGB 64x64 images in batches of "
                  "64 (a fresh process each): peak resident memory above the process's "
                  "before the array was built, the array included.", ""]
        reference = next((r["fit_peak_mib"] for r in memory if r["code"] != "this checkout"
                          and r["input"] == "float32 array"), None)
        header = ["code", "X", "array (MiB)", "peak, array and fit (MiB)"]
        if reference:
            header.append("vs the earlier float32 path")
        rows = []
        for r in memory:
            row = [r["code"], r["input"], f"{r['data_mib']:.0f}", f"{r['fit_peak_mib']:.0f}"]
            if reference:
                row.append(f"{r['fit_peak_mib'] / reference:.2f}x")
            rows.append(row)
        lines += [markdown_table(header, rows), ""]
    resnet = [r for r in records if r["part"] == "resnet"]
    if resnet:
        acc = np.array([r["accuracy"] for r in resnet])
        lines += ["## ResNet-18 from files", "",
                  f"DANN (``lambda_=1``), ``module=\"resnet18\"`` (random initialisation), "
                  f"{args.resnet_epochs} epochs from the PNG files ({args.workers} workers): "
                  f"USPS accuracy {acc.mean():.3f} ± {acc.std():.3f}, "
                  f"{np.mean([r['images_per_s'] for r in resnet]):,.0f} training images/s, "
                  f"{np.mean([r['fit_s'] for r in resnet]):.0f} s per fit.", ""]
    full = [r for r in records if r["part"] == "full_size"]
    if full:
        lines += ["## ResNet-50 at 224x224", "",
                  f"DANN (``lambda_=1``), ``module=\"resnet50\"`` (random initialisation), "
                  f"{full[0]['n']} random RGB images of 224x224 (half of them the unlabeled "
                  f"target), batches of 128, {args.full_size_epochs} epochs: training "
                  "images per second after the first epoch (its start-up, cuDNN's kernel "
                  "choice and the workers' start, left out) and the peak GPU memory "
                  "allocated.", ""]
        rows = [[r["input"], f"{r['images_per_s']:,.0f}", f"{r['peak_gpu_gib']:.1f}"]
                for r in full]
        lines += [markdown_table(["X, precision", "images/s", "peak GPU memory (GiB)"], rows),
                  ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--resnet-epochs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-n", type=int, default=20000)
    parser.add_argument("--full-size-n", type=int, default=4096)
    parser.add_argument("--full-size-epochs", type=int, default=4)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--compare-with", default=None,
                        help="a checkout of an earlier skda, for the memory part")
    parser.add_argument("--compare-with-label", default="an earlier commit")
    parser.add_argument("--out", default=RESULTS)
    parser.add_argument("--quick", action="store_true",
                        help="1 seed, 2 epochs, 2000 images for memory: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.resnet_epochs, args.memory_n = 1, 2, 1, 2000
    import torch

    torch.set_num_threads(args.threads)
    parts = args.parts.split(",")
    records, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        paths = y = domains = None
        if "files" in parts or "resnet" in parts:
            if "files" in parts:
                paths, y, domains = files_part(args, root, records)
            else:
                paths, y, domains, _ = digit_files(root)
        if "memory" in parts and args.device == "cpu":
            memory_part(args, records)
        if "resnet" in parts:
            resnet_part(args, paths, y, domains, records)
        if "full_size" in parts and args.device.startswith("cuda"):
            full_size_part(args, root, records)
    seconds = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    name = f"image_files_{args.device.split(':')[0]}"
    text = report(records, args, seconds)
    with open(os.path.join(args.out, name + ".md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, name + ".json"), "w") as f:
        json.dump(dict(config=vars(args), records=records, seconds=seconds), f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
