"""The user guide's import path for the generators, kept: `jmo_schedule.workflow_generators`
and its modules (`.github_actions`, `.gitlab_ci`, `.kubernetes`, `.local_cron`) are the
modules of `jmo_schedule.generators` under their old names (the same module objects)."""
from __future__ import annotations

import sys

from ..generators import *  # noqa: F403
from ..generators import __all__ as __all__  # noqa: F401
from ..generators import github_actions, gitlab_ci, kubernetes, local_cron

for _module in (github_actions, gitlab_ci, kubernetes, local_cron):
    sys.modules[f"{__name__}.{_module.__name__.rpartition('.')[2]}"] = _module
