"""`tasray --version` prints the installed version and exits 0."""

import pytest

from tasray import __version__
from tasray.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"tasray {__version__}"
