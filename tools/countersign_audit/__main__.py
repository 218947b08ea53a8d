import sys

from countersign_audit.cli import main

sys.exit(main())
