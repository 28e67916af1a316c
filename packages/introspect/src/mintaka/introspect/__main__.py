"""`python -m mintaka.introspect` runs the `mintaka-routes` command."""

from mintaka.introspect._cli import main

raise SystemExit(main())
