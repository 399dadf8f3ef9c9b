"""Images/s of the ImageNet training input pipeline with 0 and with N loader workers.

Builds its own ImageNet-style JPEG folder in a temporary directory (`--images` 224×224 images in
10 classes, plus a small val/ split), loads it with `tasray.data.load_data("imagenet", ...)` (JPEG
decode, RandomResizedCrop, colour jitter, flip, normalisation: what `tasray run` trains on), and
times full passes of `make_loader` with the options `data.loader_workers` gives. Passes with 0 and
with N workers alternate and the best of `--passes` each is kept, so load from other processes
hits both alike. The last line is

    loader workers N: X images/s vs 0 workers: Y images/s, ratio Z

    python bench/data_throughput.py [--workers 2] [--images 2000] [--batch 64] [--passes 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tasray.data import LoaderOptions, load_data, make_loader, set_loader_epoch

CLASSES = 10


def write_folder(root: Path, images: int, seed: int = 0) -> None:
    """`images` training JPEGs (and a tenth as many for val) with photo-like smooth content."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:224, 0:224].astype(np.float32) / 224
    for split, count in (("train", images), ("val", max(CLASSES, images // 10))):
        for index in range(count):
            folder = root / split / f"class{index % CLASSES:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            a, b, c = rng.uniform(0, 6, 3)
            base = np.stack([np.sin(a * xx + b * yy), np.cos(b * xx - c * yy), np.sin(c * (xx + yy))], -1)
            pixels = (base * 90 + 128 + rng.normal(0, 12, (224, 224, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{index:05d}.jpg", quality=90)


def images_per_s(dataset, batch: int, workers: int, epoch: int) -> float:
    loader = make_loader(dataset, batch, shuffle=True, seed=0, options=LoaderOptions(workers=workers))
    set_loader_epoch(loader, epoch)
    start, count = time.perf_counter(), 0
    for images, _ in loader:
        count += len(images)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tasray-bench-") as folder:
        started = time.perf_counter()
        write_folder(Path(folder), args.images)
        print(f"wrote {args.images} train JPEGs (224×224) in {time.perf_counter() - started:.1f} s")
        train = load_data("imagenet", folder).train
        best = {0: 0.0, args.workers: 0.0}
        for epoch in range(args.passes):
            for workers in best:
                rate = images_per_s(train, args.batch, workers, epoch)
                best[workers] = max(best[workers], rate)
                print(f"pass {epoch}, {workers} workers: {rate:.1f} images/s")
    ratio = best[args.workers] / best[0]
    print(
        f"loader workers {args.workers}: {best[args.workers]:.1f} images/s vs 0 workers: "
        f"{best[0]:.1f} images/s, ratio {ratio:.2f}"
    )


if __name__ == "__main__":
    main()
