"""``python -m dask_deeplearn.cli``: the ``dask-deeplearn`` command."""

import sys

from . import main

sys.exit(main())
