"""Ray layer: Ray Train wrappers around the stages and the Ray Tune sweep."""
