"""Where the installed launch and parameter files are (colcon install or this source tree)."""

from __future__ import annotations

from pathlib import Path


def share_dir() -> Path:
    """``share/safevla`` of a colcon install, else the package folder of this source tree."""
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("safevla"))
    except (ImportError, LookupError, OSError, ValueError):  # not installed by colcon
        return Path(__file__).resolve().parents[1]


def params_file(name: str = "sim.yaml") -> Path:
    path = share_dir() / "launch" / "params" / name
    if not path.is_file():
        raise FileNotFoundError(f"parameter file {path} not found; is the safevla package installed?")
    return path
