"""`tasray --version` prints the version pip installed (pyproject.toml's), not only the constant."""

from importlib.metadata import version

import pytest

from tasray.cli import main


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"tasray {version('tasray')}"
