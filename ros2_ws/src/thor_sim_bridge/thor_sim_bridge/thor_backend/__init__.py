"""The AI2-THOR backend: SafeVLA's benchmark episodes in real houses, behind the ``HouseEnv`` interface.

Optional: it needs the ``ai2thor`` extra, a local Unity build, a Vulkan driver, the houses file and
the objathor assets (``preflight`` names what is missing). Importing this package needs none of
them; only starting the controller does.
"""

from .env import ThorEnv, start_controller
from .preflight import ThorSetupError, require_setup, setup_problems
from .settings import ThorSettings, controller_kwargs

__all__ = ["ThorEnv", "ThorSettings", "ThorSetupError", "controller_kwargs", "require_setup", "setup_problems",
           "start_controller"]
