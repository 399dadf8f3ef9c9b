"""Storage I/O: whole-file reads and atomic writes under a storage path, keyed caches, export."""
