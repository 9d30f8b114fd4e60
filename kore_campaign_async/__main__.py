"""``python -m kore_campaign_async``: the ``kore-campaign`` command-line tool."""

from kore_campaign_async.cli import main

raise SystemExit(main())
