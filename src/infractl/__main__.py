import sys

from infractl.cli.main import main

sys.exit(main())
