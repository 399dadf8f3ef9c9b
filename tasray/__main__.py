import sys

from tasray.cli import main

sys.exit(main())
