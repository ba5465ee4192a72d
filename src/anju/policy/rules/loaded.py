"""Imports every rule module so that they register. Add a new module's import here.

The order is the order of evaluation: P7 runs first, so a campaign that targets the monitoring list (P9) is
checked (P5) against the list of the same refresh.
"""

# isort: skip_file
from . import monitoring  # noqa: F401
from . import annual_check  # noqa: F401
from . import appraisal_overdue  # noqa: F401
from . import cases  # noqa: F401
from . import funds  # noqa: F401
