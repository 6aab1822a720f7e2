"""Allow `python -m ice_tracker …`."""

from ice_tracker.cli import main

raise SystemExit(main())
