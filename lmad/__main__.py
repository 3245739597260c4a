import sys

from lmad.cli import console_main

sys.exit(console_main())
