"""The engine: stage jobs, where they run, the caches, and one trial from method to results row."""
