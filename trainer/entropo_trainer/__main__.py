"""`python -m entropo_trainer` runs the training command line."""

from .train import main

raise SystemExit(main())
