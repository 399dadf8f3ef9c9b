"""Counts in messages, with the noun in the number the count takes: ``1 epoch``, ``2 epochs``."""

from __future__ import annotations


def plural(number: float, noun: str, nouns: str | None = None) -> str:
    """``plural(1, "epoch")`` → ``1 epoch``, ``plural(0.5, "GPU")`` → ``0.5 GPUs``; `nouns` is the
    plural where adding an s is wrong: ``plural(3, "class", "classes")`` → ``3 classes``."""
    word = noun if number == 1 else nouns or f"{noun}s"
    return f"{number:g} {word}" if isinstance(number, float) else f"{number} {word}"
