"""
Images from a folder tree: one folder per domain, one subfolder per class
=========================================================================

Image data sets of domain shift (Office-31, PACS, OfficeHome, and most site-wise
medical sets) come as files, ``root/<domain>/<class>/<image>``.
:func:`skda.datasets.load_image_folder` lists them as ``X`` (the paths), ``y``
and ``domains`` without reading an image, and every estimator decodes the
images of each batch as it trains: the data never has to fit in memory.

Here the bundled digits in six styles are written out as PNG files first, so
that the example needs no download. DANN trains on five labeled styles and
the unlabeled images of the sixth, plain grey digits, with its strength
chosen without their labels, and is scored there against ERM (source styles
only).
"""

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from skda import DANNClassifier, ERMClassifier
from skda.datasets import ImageRows, load_image_folder, make_shifted_digits

# -- write the images as files: root/<style>/<digit>/<n>.png ---------------------------
images, labels, styles = make_shifted_digits("style", random_state=0)  # (1797, 3, 8, 8)
root = Path(tempfile.mkdtemp(prefix="skda-digits-"))
for i, (image, label, style) in enumerate(zip(images, labels, styles, strict=True)):
    folder = root / style / str(label)
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.round(image.transpose(1, 2, 0) * 255).astype(np.uint8)  # (8, 8, 3)
    Image.fromarray(pixels).save(folder / f"{i:04d}.png")

# -- the folder tree as X, y, domains: paths only, no image read ---------------------
X, y, domains = load_image_folder(root)
print(f"{len(X)} files in {len(np.unique(domains))} domains, e.g. {Path(X[0]).relative_to(root)}")

# ImageRows adds a transform (any callable on a PIL image, e.g. a torchvision v2
# pipeline) and decoding in DataLoader worker processes; a plain list of paths
# is the same with no transform (pixels scaled to [0, 1]) and no workers.
X = ImageRows(X, num_workers=2)
print(f"X: {X!r}, shape {X.shape}")

target = domains == "gray"
y = y.astype(int)
erm = ERMClassifier(max_epochs=15, random_state=0)
erm.fit(X[~target], y[~target], domains=domains[~target])
# lambda_="auto" (the default): the strength chosen without the grey labels, ERM included
dann = DANNClassifier(max_epochs=15, random_state=0)
dann.fit(X, np.where(target, -1, y), domains=domains)  # the grey images unlabeled
print(f"DANN's strength: lambda_={dann.strength_:g}")
for name, clf in [("ERM", erm), ("DANN", dann)]:
    print(f"{name}: accuracy on the unseen 'gray' style {clf.score(X[target], y[target]):.3f}")
