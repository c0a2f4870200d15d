"""Domain-balanced mini-batches gathered from tensors that already sit on the device."""

import math
from typing import NamedTuple

import torch


class DomainData(NamedTuple):
    """Training tensors, all on the training device and all of the same length.

    ``y`` holds class codes ``0..n_classes-1`` and ``-1`` for unlabeled rows
    (a classifier), or float targets and NaN for unlabeled rows (a
    regressor); ``domains`` holds domain codes ``0..n_domains-1``;
    ``weights``, if not None, one weight per row for the label loss.
    """

    X: torch.Tensor
    y: torch.Tensor
    domains: torch.Tensor
    weights: torch.Tensor | None = None

    def __len__(self):
        return len(self.X)


def _gather(data, rows):
    """One batch ``(X, y, domains)`` and its weights (or None): one gather per tensor."""
    X, y, domains, weights = data
    # index_select: one gather kernel, cheaper than advanced indexing
    batch = X.index_select(0, rows), y.index_select(0, rows), domains.index_select(0, rows)
    return batch, None if weights is None else weights.index_select(0, rows)


class BalancedBatches:
    """Epochs of mini-batches in which every domain has the same share of rows.

    This is DomainBed's sampling scheme: each domain is an endless stream of
    its own rows, reshuffled each time it runs dry, and a batch takes the next
    ``batch_size / n_domains`` rows of every stream. Small domains are thus
    revisited more often than large ones, and a domain discriminator always
    sees balanced classes.

    One pass over this object is one epoch of ``ceil(n_rows / batch_size)``
    steps, each a batch ``(X, y, domains)``; the weights of the rows of the
    batch last yielded are in ``batch_weights`` (None without weights). The
    indices of a whole epoch are drawn at once on the CPU (so the same seed
    gives the same batches on every device), moved to the device in one
    copy, and each batch is a single gather from the device tensors: no
    per-row Dataset or collate function.

    Parameters
    ----------
    data : DomainData
        The training tensors.
    batch_size : int
        Rows per batch, split as evenly as possible across domains. It is
        clipped to ``[n_domains, n_rows]``.
    seed : int
        Seed of the shuffling generator.
    n_replicas : int, default=1
        Number of data-parallel processes sharing an epoch (multi-GPU
        training): each draws its own batches (give each its own ``seed``)
        and an epoch is ``ceil(n_rows / (batch_size * n_replicas))`` steps.
    """

    def __init__(self, data, batch_size, seed, n_replicas=1):
        self.data = data
        codes = data.domains.cpu()
        n_domains = int(codes.max()) + 1
        self._members = [torch.nonzero(codes == k).flatten() for k in range(n_domains)]
        batch_size = self.effective_batch_size(batch_size, len(data), n_domains)
        base, extra = divmod(batch_size, n_domains)
        self.rows_per_domain = [base + (k < extra) for k in range(n_domains)]
        self.batch_size = batch_size
        self.steps = self.steps_per_epoch(len(data), n_domains, batch_size, n_replicas)
        self._generator = torch.Generator().manual_seed(int(seed))
        self._queues = [m[:0] for m in self._members]
        self.batch_weights = None

    def set_domains(self, codes):
        """Give the rows new domain codes, e.g. latent domains re-inferred between epochs.

        ``codes`` (one per row, ``0..n_domains-1``, every domain present, the
        number of domains unchanged) is written into ``data.domains`` in
        place, so batches carry the new codes, and each domain's member list
        is rebuilt. The streams start afresh: the next batches draw new
        shuffles of the new members. Batch size, rows per domain and steps
        per epoch do not change. Call it between epochs, not during one.
        """
        codes = torch.as_tensor(codes, dtype=torch.long).flatten().cpu()
        n_domains = len(self._members)
        if len(codes) != len(self.data):
            raise ValueError(f"set_domains needs {len(self.data)} codes, got {len(codes)}.")
        counts = torch.bincount(codes.clamp(min=0), minlength=n_domains)
        if codes.min() < 0 or len(counts) != n_domains or not (counts > 0).all():
            raise ValueError(
                f"set_domains needs codes 0..{n_domains - 1}, each given to at least one row; "
                f"got counts {counts.tolist()} (min code {int(codes.min())}).")
        self.data.domains.copy_(codes.to(self.data.domains.device))
        self._members = [torch.nonzero(codes == k).flatten() for k in range(n_domains)]
        self._queues = [m[:0] for m in self._members]

    @staticmethod
    def effective_batch_size(batch_size, n_rows, n_domains):
        """``batch_size`` clipped to ``[n_domains, n_rows]``: every batch holds every domain."""
        return max(min(batch_size, n_rows), n_domains)

    @classmethod
    def steps_per_epoch(cls, n_rows, n_domains, batch_size, n_replicas=1):
        """Optimizer steps of one epoch over ``n_rows`` rows: ``ceil(n_rows / batch)``."""
        batch = cls.effective_batch_size(batch_size, n_rows, n_domains)
        return math.ceil(n_rows / (batch * n_replicas))

    def __len__(self):
        return self.steps

    def _take(self, k, count):
        """Next ``count`` row indices of domain ``k``'s endless shuffled stream."""
        members, queue = self._members[k], self._queues[k]
        missing = count - len(queue)
        if missing > 0:
            refills = math.ceil(missing / len(members))
            perms = [members[torch.randperm(len(members), generator=self._generator)]
                     for _ in range(refills)]
            queue = torch.cat([queue, *perms])
        self._queues[k] = queue[count:]
        return queue[:count]

    def epoch_indices(self):
        """Index matrix of shape ``(steps, batch_size)`` for one epoch, on the CPU."""
        blocks = [self._take(k, self.steps * m).view(self.steps, m)
                  for k, m in enumerate(self.rows_per_domain)]
        return torch.cat(blocks, dim=1)

    def __iter__(self):
        index = self.epoch_indices().to(self.data.X.device, non_blocking=True)
        for rows in index:
            batch, self.batch_weights = _gather(self.data, rows)
            yield batch


class SequentialBatches:
    """The rows of ``data`` in order, ``batch_size`` at a time: the validation pass.

    Yields ``(X, y, domains)`` like :class:`BalancedBatches`, with the
    weights of the last batch in ``batch_weights``.
    """

    def __init__(self, data, batch_size):
        self.data = data
        self.batch_size = batch_size
        self.batch_weights = None

    def __len__(self):
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        device = self.data.X.device
        for start in range(0, len(self.data), self.batch_size):
            rows = torch.arange(start, min(start + self.batch_size, len(self.data)),
                                device=device)
            batch, self.batch_weights = _gather(self.data, rows)
            yield batch
