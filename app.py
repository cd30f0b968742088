"""Start the tutor: ``python app.py`` (see ``python app.py --help``)."""

import sys

from tutor_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
