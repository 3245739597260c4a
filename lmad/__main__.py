import sys

from lmad.cli import main

sys.exit(main())
