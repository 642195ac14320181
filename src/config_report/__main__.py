"""`python -m config_report` runs the command line."""

import sys

from config_report.cli import main

sys.exit(main())
