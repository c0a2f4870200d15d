"""Seconds per epoch and peak memory: skda's ERM and DANN against hand-written torch loops.

Every other method is timed on the same data, against skda's ERM and DANN.

Not a test: run ``python benchmarks/speed.py`` (add ``--device cuda`` on a GPU);
writes ``<out>/speed_<device>.md`` and ``.json`` (``--out``, default ``results/``).
Each measurement runs in a fresh subprocess, so peak memory is its own; the
four programs are run in turn, ``--repeats`` times, and the median is kept.

The hand-written loops do the same work as skda: the same MLP, batch size,
optimizer and learning rate, data already on the device, a random
permutation per epoch indexed batch by batch, and ``loss.item()`` per batch
(the usual running-loss log). The DANN loop takes half of each batch from
each domain, as skda's balanced batches do.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from _common import RESULTS, machine_stamp

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = ["hand ERM", "skda ERM", "hand DANN", "skda DANN"]
#: every other method on the same data: (estimator name, its settings, target unlabeled?)
METHODS = {
    "skda CDANN": ("CDANNClassifier", dict(lambda_warmup=False), True),
    "skda CDAN": ("CDANClassifier", dict(lambda_warmup=False), True),
    "skda CDAN+E": ("CDANClassifier", dict(lambda_warmup=False, entropy_conditioning=True),
                    True),
    "skda CAADA": ("CAADAClassifier", dict(lambda_warmup=False), True),
    "skda Deep CORAL": ("DeepCORALClassifier", {}, True),
    "skda MMD": ("MMDClassifier", {}, True),
    "skda MCC": ("MCCClassifier", {}, True),
    "skda CCSA": ("CCSAClassifier", {}, False),
    "skda SagNet": ("SagNetClassifier", {}, False),
    "skda GroupDRO": ("GroupDROClassifier", {}, False),
    "skda IRM": ("IRMClassifier", dict(penalty_anneal_iters=0), False),
    "skda V-REx": ("VRExClassifier", dict(penalty_anneal_iters=0), False),
    "skda Mixup": ("MixupClassifier", {}, False),
    "skda DDAIG": ("DDAIGClassifier", {}, False),
}


def make_data(n, p, seed=0):
    import numpy as np

    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    y = (X[:, :10].sum(axis=1) > 0).astype(np.int64)
    domains = np.repeat([0, 1], n // 2)
    X[domains == 1] += 0.5
    return X, y, domains


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def draw(rows, steps, per_step):
    """``steps x per_step`` indices of ``rows``, shuffled, reshuffling when they run out."""
    import torch

    repeats = -(-steps * per_step // len(rows))
    perm = torch.cat([torch.randperm(len(rows), device=rows.device) for _ in range(repeats)])
    return rows[perm[: steps * per_step]].view(steps, per_step)


def hand_loop(program, X, y, domains, cfg, device):
    """The plain PyTorch loops; returns the duration of each epoch."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from skda.methods.dann import grad_reverse

    torch.manual_seed(0)
    hidden, bs = cfg["hidden"], cfg["batch_size"]
    feat = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU()).to(device)
    head = nn.Linear(hidden, 2).to(device)
    params = [*feat.parameters(), *head.parameters()]
    dann = program == "hand DANN"
    if dann:
        disc = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
        disc = disc.to(device)
        params += list(disc.parameters())
    opt = torch.optim.Adam(params, lr=cfg["lr"])
    Xt = torch.tensor(X, device=device)
    yt = torch.tensor(np.where(domains == 1, -1, y) if dann else y, device=device)
    dt = torch.tensor(domains, device=device)
    n = len(Xt)
    steps = -(-n // bs)
    source = torch.nonzero(dt == 0).flatten()
    target = torch.nonzero(dt == 1).flatten()
    durations = []
    for _ in range(cfg["epochs"]):
        start = time.perf_counter()
        if dann:
            order = torch.cat([draw(source, steps, bs // 2), draw(target, steps, bs // 2)], 1)
        else:
            order = torch.randperm(n, device=device)
        total = 0.0
        for i in range(steps):
            idx = order[i] if dann else order[i * bs:(i + 1) * bs]
            xb, yb = Xt[idx], yt[idx]
            z = feat(xb)
            if dann:
                half = bs // 2
                loss = F.cross_entropy(head(z[:half]), yb[:half])
                loss = loss + F.cross_entropy(disc(grad_reverse(z, 1.0)), dt[idx])
            else:
                loss = F.cross_entropy(head(z), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return durations


def skda_fit(program, X, y, domains, cfg, device):
    """skda's estimators; returns the duration of each epoch from the history."""
    import skda
    from skda import DANNClassifier, ERMClassifier

    shared = dict(hidden_layer_sizes=(cfg["hidden"],), max_epochs=cfg["epochs"],
                  batch_size=cfg["batch_size"], lr=cfg["lr"], device=device, random_state=0,
                  # the hand-written loop neither scales inputs nor decays weights
                  input_scaling=None, optimizer__weight_decay=0.0)
    if program == "skda ERM":
        clf = ERMClassifier(**shared).fit(X, y)
    elif program in METHODS:
        name, params, unlabeled_target = METHODS[program]
        clf = getattr(skda, name)(**shared, **params)
        clf.fit(X, np.where(domains == 1, -1, y) if unlabeled_target else y, domains=domains)
    else:
        clf = DANNClassifier(lambda_=1.0, lambda_warmup=False,
                             discriminator_hidden_layer_sizes=(cfg["hidden"],), **shared)
        clf.fit(X, np.where(domains == 1, -1, y), domains=domains)
    return list(clf.net_.history[:, "dur"])


def worker(program, cfg, device, data=None, hand=hand_loop, fit=skda_fit):
    """Time one program in this process and print its result as a JSON line."""
    import torch

    torch.set_num_threads(cfg["threads"])
    X, y, domains = data if data is not None else make_data(cfg["n"], cfg["p"])
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    before = rss_mib()
    run = hand if program.startswith("hand") else fit
    durations = run(program, X, y, domains, cfg, device)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "program": program,
        # the first epoch is warm-up; the fastest of the rest is the least
        # disturbed by other load on the machine (as timeit reports)
        "sec_per_epoch": min(durations[1:]),
        "median_sec_per_epoch": statistics.median(durations[1:]),
        "peak_rss_delta_mib": peak_rss - before,
    }
    if device.startswith("cuda"):
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(result))


def measure(cfg, device, repeats, programs=PROGRAMS, script=__file__):
    """Run each program ``repeats`` times, each in a fresh ``script --worker`` process."""
    runs = {p: [] for p in programs}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")])}
    for r in range(repeats):
        for program in programs:
            out = subprocess.run(
                [sys.executable, script, "--worker", program, "--config", json.dumps(cfg),
                 "--device", device], capture_output=True, text=True, env=env, check=True)
            runs[program].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  repeat {r + 1}/{repeats} {program}: "
                  f"{runs[program][-1]['sec_per_epoch']:.4f} s/epoch", file=sys.stderr)
    return {p: {k: statistics.median(run[k] for run in rs) for k in rs[0] if k != "program"}
            for p, rs in runs.items()}


def report(results, cfg, device):
    hand_erm, hand_dann = results["hand ERM"], results["hand DANN"]
    lines = [
        f"# Speed: skda against hand-written torch loops ({device})",
        "",
        f"Data {cfg['n']} x {cfg['p']} float32, 2 classes; DANN: 2 domains of equal size, "
        f"target unlabeled. MLP {cfg['p']}-{cfg['hidden']}-2 (DANN discriminator "
        f"{cfg['hidden']}-{cfg['hidden']}-2), batch {cfg['batch_size']}, Adam lr {cfg['lr']}, "
        f"{cfg['epochs']} epochs. s / epoch: fastest of epochs 2..{cfg['epochs']} "
        f"(median in brackets), median over {cfg['repeats']} runs in fresh processes; "
        f"torch threads {cfg['threads']}.",
        "",
        machine_stamp(device),
        "",
        "| program | s / epoch | vs hand-written | peak RSS increase (MiB) |"
        + (" peak CUDA (MiB) |" if device.startswith("cuda") else ""),
        "|---|---|---|---|" + ("---|" if device.startswith("cuda") else ""),
    ]
    for program, res in results.items():
        if program in METHODS:
            continue
        base = hand_erm if "ERM" in program else hand_dann
        row = (f"| {program} | {res['sec_per_epoch']:.4f} "
               f"({res['median_sec_per_epoch']:.4f}) | "
               f"{res['sec_per_epoch'] / base['sec_per_epoch']:.3f}x | "
               f"{res['peak_rss_delta_mib']:.1f} |")
        if "peak_cuda_mib" in res:
            row += f" {res['peak_cuda_mib']:.1f} |"
        lines.append(row)
    skda_extra = results["skda DANN"]["sec_per_epoch"] - results["skda ERM"]["sec_per_epoch"]
    hand_extra = hand_dann["sec_per_epoch"] - hand_erm["sec_per_epoch"]
    lines += [
        "",
        f"DANN's extra cost over ERM: skda {skda_extra:.4f} s/epoch, hand-written "
        f"{hand_extra:.4f} s/epoch (the discriminator's forward/backward and the "
        "balanced sampling).",
    ]
    methods = [p for p in results if p in METHODS]
    if methods:
        erm, dann = results["skda ERM"]["sec_per_epoch"], results["skda DANN"]["sec_per_epoch"]
        lines += [
            "",
            "## Every method on the same data",
            "",
            "Same data, MLP, batch, optimizer and epochs; the methods with (UDA) see the "
            "second domain unlabeled, the others train on both domains labeled (DG). "
            "Defaults otherwise, except the reversal at full strength from the first step "
            "(as DANN above) and IRM/V-REx's penalty from the first step "
            "(`penalty_anneal_iters=0`).",
            "",
            "| program | s / epoch | vs skda ERM | vs skda DANN |",
            "|---|---|---|---|",
        ]
        for program in methods:
            res = results[program]
            label = program + (" (UDA)" if METHODS[program][2] else " (DG)")
            lines.append(f"| {label} | {res['sec_per_epoch']:.4f} "
                         f"({res['median_sec_per_epoch']:.4f}) | "
                         f"{res['sec_per_epoch'] / erm:.2f}x | "
                         f"{res['sec_per_epoch'] / dann:.2f}x |")
    return "\n".join(lines) + "\n"


def speed_arguments(description, n, epochs):
    """The command line both speed benchmarks take; each adds its data's own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=n)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count()))
    parser.add_argument("--out", default=RESULTS,
                        help="folder of the output files (default: results/)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    return parser


def save(name, text, cfg, results, args):
    """Print the report; write it to ``<out>/<name>_<device>.md``, the numbers to ``.json``."""
    print(text)
    os.makedirs(args.out, exist_ok=True)
    out = os.path.join(args.out, f"{name}_{args.device.split(':')[0]}")
    with open(out + ".md", "w") as f:
        f.write(text)
    with open(out + ".json", "w") as f:
        json.dump({"config": cfg, "device": args.device, "results": results}, f, indent=2)


def main():
    parser = speed_arguments(__doc__.splitlines()[0], n=20000, epochs=6)
    parser.add_argument("--p", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--skip-methods", action="store_true",
                        help="time ERM and DANN only (not every other method)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, json.loads(args.config), args.device)
        return
    cfg = dict(n=args.n, p=args.p, hidden=args.hidden, batch_size=args.batch_size,
               lr=1e-3, epochs=args.epochs, repeats=args.repeats, threads=args.threads)
    programs = PROGRAMS + ([] if args.skip_methods else list(METHODS))
    results = measure(cfg, args.device, args.repeats, programs)
    save("speed", report(results, cfg, args.device), cfg, results, args)


if __name__ == "__main__":
    main()
