import sys

from ciudad.cli import main

sys.exit(main())
