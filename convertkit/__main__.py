"""``python -m convertkit``."""

from .cli import main

raise SystemExit(main())
