"""Width granularity: pruned channel counts rounded to a multiple that the hardware runs well.

Convolution kernels work on channel blocks (oneDNN on AVX-512 CPUs: 16 float32 channels; tensor
cores: multiples of 8), so a 23-channel conv costs about as much as a 32-channel one. Rounding
every candidate width to a multiple turns FLOP savings into time savings.
"""

from __future__ import annotations


def round_width(width: float, max_width: int, multiple: int = 1) -> int:
    """`width` rounded to the nearest multiple of `multiple`, between one block and `max_width`.

    A layer narrower than one block keeps its own width; the unpruned width is always allowed,
    even when it is not a multiple. With `multiple` 1 this is `round(width)`, at least 1.
    """
    if multiple < 1:
        raise ValueError(f"width multiple {multiple}; must be >= 1")
    rounded = multiple * round(width / multiple)
    return min(max_width, max(min(multiple, max_width), rounded, 1))
