"""``python -m model`` is the ``tipline`` command."""

from model.cli import main

raise SystemExit(main())
