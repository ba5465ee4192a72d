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
from anju.disasters import rules as disasters  # noqa: F401
from anju.responsibility import rules as responsibility  # noqa: F401
from anju.complaints import rules as complaints  # noqa: F401
from anju.cards import rules as cards_rules  # noqa: F401
from anju.training import rules as training_rules  # noqa: F401
from anju.supervision import rules as supervision_rules  # noqa: F401
from anju.idle import rules as idle_rules  # noqa: F401
from anju.returns import rules as returns_rules  # noqa: F401
