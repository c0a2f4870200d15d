"""Domain-balanced mini-batches, gathered from device tensors or fetched per batch.

X's rows are gathered where they sit: a float32 tensor on the training
device (the usual case: one gather per batch), a tensor kept on the host
(uint8 images, or data larger than the device's memory: each batch is
gathered there, copied over and converted to float32), or
:class:`~skda.datasets.ImageRows` (images decoded by DataLoader workers).
"""

import math
from typing import NamedTuple

import numpy as np
import torch

from ..datasets._images import as_float_images

#: share of a CUDA device's free memory the training X may take; a larger X stays on the
#: host and its batches are copied over as they are drawn
DEVICE_MEMORY_SHARE = 0.5


def place_rows(X, device):
    """The rows of the array ``X`` as a tensor that batches are gathered from.

    Its dtype is kept (uint8 images take a quarter of float32's memory and
    are converted per batch). On a CUDA device X is copied over whole when
    it takes at most :data:`DEVICE_MEMORY_SHARE` of the free memory, else
    it stays on the host. A host tensor shares X's memory (nothing writes
    to it) unless X is read-only.
    """
    X = np.ascontiguousarray(X)
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
        if X.nbytes <= DEVICE_MEMORY_SHARE * free:
            return torch.as_tensor(X, device=device)
    elif device.type != "cpu":
        return torch.as_tensor(X, device=device)
    return torch.from_numpy(X) if X.flags.writeable else torch.tensor(X)


class DomainData(NamedTuple):
    """Training rows: ``y``, ``domains`` and ``weights`` on the training device, all of one length.

    ``X`` is a tensor on the training device, a tensor on the host (fetched
    batch by batch), or :class:`~skda.datasets.ImageRows`; an integer
    tensor (uint8 images) is converted to float32 per batch.

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


class Batch(tuple):
    """A training or validation batch: ``(X, y, domains)``, and the rows' ``weights``.

    It unpacks as the three tensors (``X, y, domains = batch``) and carries
    the rows' loss weights (sample and class weights; None when uniform) in
    ``weights``, so that a step reads them from the batch it trains on.
    """

    def __new__(cls, X, y, domains, weights=None):
        batch = super().__new__(cls, (X, y, domains))
        batch.weights = weights
        return batch

    def __getnewargs__(self):  # copy and pickle rebuild it with its weights
        return (*self, self.weights)

    def with_X(self, X):
        """The same batch with other inputs (an augmentation's)."""
        return Batch(X, self[1], self[2], self.weights)


def _gather(data, rows, X):
    """One :class:`Batch` of the ``rows`` of ``data``, ``X`` already fetched."""
    _, y, domains, weights = data
    # index_select: one gather kernel, cheaper than advanced indexing
    return Batch(X, y.index_select(0, rows), domains.index_select(0, rows),
                 None if weights is None else weights.index_select(0, rows))


def _as_float(X):
    return X if X.dtype == torch.float32 else X.float()


def _moved(batch, device):
    """A batch of rows as float32 on ``device``: pinned and copied over when it is elsewhere."""
    if batch.device != device:
        if device.type == "cuda":
            batch = batch.pin_memory()
        batch = batch.to(device, non_blocking=True)
    return _as_float(batch)


def _decoded(loader, device):
    """The image batches of a DataLoader over :class:`~skda.datasets.ImageRows`, float32 on
    ``device`` (uint8 pixels scaled to [0, 1] there)."""
    for batch in loader:
        yield as_float_images(batch.to(device, non_blocking=True))


def rows_in_order(X, batch_size, device):
    """X's rows in order, ``batch_size`` at a time, as float32 tensors on ``device``.

    ``X`` is a tensor (anywhere), a numpy array or
    :class:`~skda.datasets.ImageRows`.
    """
    if isinstance(X, np.ndarray):
        for start in range(0, len(X), batch_size):
            yield _as_float(torch.tensor(X[start:start + batch_size], device=device))
    elif isinstance(X, torch.Tensor):
        for start in range(0, len(X), batch_size):
            yield _moved(X[start:start + batch_size], device)
    else:
        yield from _decoded(X.loader(batch_size=batch_size, pin_memory=device.type == "cuda"),
                            device)


class _EpochRows:
    """A DataLoader's batch sampler: the row lists of the epoch under way (set each epoch)."""

    index = None

    def __iter__(self):
        return iter(self.index.tolist())

    def __len__(self):
        return len(self.index)


class BalancedBatches:
    """Epochs of mini-batches in which every domain has the same share of rows.

    This is DomainBed's sampling scheme: each domain is an endless stream of
    its own rows, reshuffled each time it runs dry, and a batch takes the next
    ``batch_size / n_domains`` rows of every stream. Small domains are thus
    revisited more often than large ones, and a domain discriminator always
    sees balanced classes.

    One pass over this object is one epoch of ``ceil(n_rows / batch_size)``
    steps, each a :class:`Batch` ``(X, y, domains)`` with the rows' weights. The
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
        self._seed, self._loader, self._epoch_rows = int(seed), None, _EpochRows()
        self._queues = [m[:0] for m in self._members]

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

    def _image_loader(self, index, device):
        """The fit's DataLoader over the images, its batch sampler set to ``index``'s rows.

        One loader serves the whole fit, its workers kept between epochs. Its
        seed (the workers' random transforms) is the sampler's, so the row
        shuffles are left alone.
        """
        self._epoch_rows.index = index
        if self._loader is None:
            self._loader = self.data.X.loader(
                batch_sampler=self._epoch_rows, training=True,
                pin_memory=device.type == "cuda", seed=self._seed)
        return self._loader

    def __iter__(self):
        index = self.epoch_indices()
        X, device = self.data.X, self.data.y.device
        if isinstance(X, torch.Tensor):  # gathered where X is, one gather per batch
            rows_X = (_moved(X.index_select(0, rows), device)
                      for rows in index.to(X.device, non_blocking=True))
        else:
            rows_X = _decoded(self._image_loader(index, device), device)
        for rows, X_batch in zip(index.to(device, non_blocking=True), rows_X, strict=True):
            yield _gather(self.data, rows, X_batch)


class SequentialBatches:
    """The rows of ``data`` in order, ``batch_size`` at a time: the validation pass.

    Yields a :class:`Batch` like :class:`BalancedBatches`.
    """

    def __init__(self, data, batch_size):
        self.data = data
        self.batch_size = batch_size

    def __len__(self):
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        device = self.data.y.device
        rows_X = rows_in_order(self.data.X, self.batch_size, device)
        for start, X in zip(range(0, len(self.data), self.batch_size), rows_X, strict=True):
            rows = torch.arange(start, min(start + self.batch_size, len(self.data)),
                                device=device)
            yield _gather(self.data, rows, X)
