"""User-facing errors: the CLI prints their one-line message and exits with status 2."""


class TasrayError(Exception):
    """Bad input from the user (a file, a flag, a config value). The message is one line."""
