"""Seconds per epoch on images: each skda estimator against a hand-written torch loop.

Not a test: run ``python benchmarks/speed_images.py`` (add ``--device cuda``
on a GPU). As ``speed.py``, each measurement runs in a fresh subprocess and
the median over ``--repeats`` runs is kept. Writes
``<out>/speed_images_<device>.md`` and ``.json`` (``--out``, default ``results/``).

Data: ``--n`` random RGB images of ``--size`` x ``--size`` pixels, 10
classes, two domains of equal size (the second brighter). Network: the
default :class:`skda.modules.ConvNet` (conv 32-64, dense 128) for every program, batch
128, Adam lr 1e-3. The hand-written loops do the same computation as the
estimators, with the data already on the device, domain-balanced batches
drawn per epoch and ``loss.item()`` per batch:

* ERM: cross-entropy; DANN: plus a 128-100-2 discriminator behind gradient
  reversal (coefficient 1), second domain unlabeled;
* CCSA: ``0.75 * CE + 0.25 * (alignment + separation)`` over the batch's
  cross-domain pairs (both domains labeled);
* SagNet: the three updates with three Adam optimizers, the backbone cut
  where skda cuts it by default (after the input standardization), two
  backbone passes per step (the style and adversarial updates share the
  second, as skda does; DomainBed makes three).
"""

import json
import os
import time

import numpy as np
from _common import machine_stamp
from speed import draw, measure, save, speed_arguments, worker

PROGRAMS = [f"{who} {method}" for method in ("ERM", "DANN", "CCSA", "SagNet")
            for who in ("hand", "skda")]


def make_images(n, size, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, 3, size, size)).astype(np.float32)
    y = rng.randint(10, size=n)
    domains = np.repeat([0, 1], n // 2)
    X[domains == 1] += 0.5
    return X, y, domains


def hand_loop(program, X, y, domains, cfg, device):
    """The plain PyTorch loops; returns the duration of each epoch."""
    import copy

    import torch
    import torch.nn.functional as F
    from torch import nn

    from skda.methods.ccsa import contrastive_alignment
    from skda.methods.dann import grad_reverse
    from skda.methods.sagnet import uniform_cross_entropy
    from skda.modules import MLP, ConvNet, randomize_content, randomize_style

    torch.manual_seed(0)
    method = program.split()[1]
    backbone = ConvNet(X.shape[1:]).to(device)
    head = nn.Linear(backbone.n_features_out, 10).to(device)
    Xt, dt = torch.tensor(X, device=device), torch.tensor(domains, device=device)
    yt = torch.tensor(np.where(domains == 1, -1, y) if method == "DANN" else y, device=device)
    bs, n = cfg["batch_size"], len(Xt)
    steps = -(-n // bs)
    members = [torch.nonzero(dt == k).flatten() for k in (0, 1)]
    if method == "SagNet":
        shared = nn.Sequential(*list(backbone)[:1])
        content = nn.Sequential(*list(backbone)[1:])
        style = nn.Sequential(copy.deepcopy(content), nn.Linear(backbone.n_features_out, 10)
                              ).to(device)
        # the shared part is the parameter-free standardization: no optimizer, as in skda
        opt_c, opt_s = (torch.optim.Adam(p, lr=1e-3) for p in (
            [*content.parameters(), *head.parameters()], style.parameters()))
    else:
        params = [*backbone.parameters(), *head.parameters()]
        if method == "DANN":
            disc = MLP(backbone.n_features_out, (100,), 2).to(device)
            params += list(disc.parameters())
        opt = torch.optim.Adam(params, lr=1e-3)
    durations = []
    for _ in range(cfg["epochs"]):
        start = time.perf_counter()
        if method == "ERM":
            order = torch.randperm(n, device=device)
            batches = [order[i * bs:(i + 1) * bs] for i in range(steps)]
        else:
            batches = torch.cat([draw(m, steps, bs // 2) for m in members], dim=1)
        for idx in batches:
            xb, yb, db = Xt[idx], yt[idx], dt[idx]
            if method == "SagNet":
                for o in (opt_c, opt_s):
                    o.zero_grad(set_to_none=True)
                loss = F.cross_entropy(head(content(randomize_style(shared(xb)))), yb)
                loss.backward()
                opt_c.step()
                feats = shared(xb)
                opt_s.zero_grad(set_to_none=True)
                style_loss = F.cross_entropy(style(randomize_content(feats.detach())), yb)
                style_loss.backward()
                opt_s.step()
                opt_s.zero_grad(set_to_none=True)
                adv = uniform_cross_entropy(style(randomize_content(feats)))
                (0.1 * adv).backward()  # skda's step too: nothing shared to update
                loss = loss.detach() + style_loss.detach() + 0.1 * adv.detach()
            else:
                z = backbone(xb)
                if method == "DANN":
                    half = len(idx) // 2
                    loss = F.cross_entropy(head(z[:half]), yb[:half])
                    loss = loss + F.cross_entropy(disc(grad_reverse(z, 1.0)), db)
                elif method == "CCSA":
                    align, sep = contrastive_alignment(z, yb, db)
                    loss = 0.75 * F.cross_entropy(head(z), yb) + 0.25 * (align + sep)
                else:
                    loss = F.cross_entropy(head(z), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            loss.item()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        durations.append(time.perf_counter() - start)
    return durations


def skda_fit(program, X, y, domains, cfg, device):
    """skda's estimators; returns the duration of each epoch from the history."""
    import skda

    method = program.split()[1]
    Estimator = getattr(skda, f"{method}Classifier")
    kwargs = dict(max_epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=1e-3,
                  device=device, random_state=0)
    if method == "DANN":
        clf = Estimator(lambda_warmup=False, **kwargs).fit(
            X, np.where(domains == 1, -1, y), domains=domains)
    else:
        clf = Estimator(**kwargs).fit(X, y, domains=domains)
    return list(clf.net_.history[:, "dur"])


def report(results, cfg, device):
    lines = [
        f"# Speed on images: skda against hand-written torch loops ({device})",
        "",
        f"{cfg['n']} images 3 x {cfg['size']} x {cfg['size']}, 10 classes, 2 domains; "
        f"default ConvNet (conv 32-64, dense 128), batch {cfg['batch_size']}, Adam lr 1e-3, "
        f"{cfg['epochs']} epochs; s / epoch: fastest of epochs 2..{cfg['epochs']} (median "
        f"in brackets), median over {cfg['repeats']} runs in fresh processes; torch threads "
        f"{cfg['threads']}. Protocol: `benchmarks/speed_images.py` docstring.",
        "",
        machine_stamp(device),
        "",
        "| method | hand s / epoch | skda s / epoch | skda vs hand | peak RSS increase hand / "
        "skda (MiB) |",
        "|---|---|---|---|---|",
    ]
    for method in ("ERM", "DANN", "CCSA", "SagNet"):
        hand, ours = results[f"hand {method}"], results[f"skda {method}"]
        lines.append(
            f"| {method} | {hand['sec_per_epoch']:.3f} ({hand['median_sec_per_epoch']:.3f}) | "
            f"{ours['sec_per_epoch']:.3f} ({ours['median_sec_per_epoch']:.3f}) | "
            f"{ours['sec_per_epoch'] / hand['sec_per_epoch']:.3f}x | "
            f"{hand['peak_rss_delta_mib']:.0f} / {ours['peak_rss_delta_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = speed_arguments(__doc__.splitlines()[0], n=4096, epochs=4)
    parser.add_argument("--size", type=int, default=16)
    args = parser.parse_args()
    if args.worker:
        cfg = json.loads(args.config)
        worker(args.worker, cfg, args.device, data=make_images(cfg["n"], cfg["size"]),
               hand=hand_loop, fit=skda_fit)
        return
    cfg = dict(n=args.n, size=args.size, batch_size=args.batch_size, epochs=args.epochs,
               repeats=args.repeats, threads=args.threads)
    results = measure(cfg, args.device, args.repeats, PROGRAMS, os.path.abspath(__file__))
    save("speed_images", report(results, cfg, args.device), cfg, results, args)


if __name__ == "__main__":
    main()
