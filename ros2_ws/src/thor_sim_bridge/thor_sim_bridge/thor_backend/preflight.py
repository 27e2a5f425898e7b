"""Checks that AI2-THOR can start here, run before Unity is launched.

A missing piece otherwise shows up minutes later as a download attempt that cannot succeed, a
Unity process that hangs without Vulkan, or a timeout reading from the backend. ``require_setup``
instead names every missing piece at once and what to do about it (docs/simulator.md, "The
AI2-THOR backend", has the full recipe).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .settings import STRETCH_COMMIT_ID, ThorSettings

VULKAN_ICD_DIRS = (Path("/usr/share/vulkan/icd.d"), Path("/etc/vulkan/icd.d"), Path("/usr/local/share/vulkan/icd.d"))
DOCS = "docs/simulator.md, section 'The AI2-THOR backend'"


class ThorSetupError(RuntimeError):
    """AI2-THOR cannot start on this machine; the message lists what is missing and what to do."""


def setup_problems(
    settings: ThorSettings,
    find_spec: Callable[[str], object | None] = importlib.util.find_spec,
    environ: Mapping[str, str] = os.environ,
    icd_dirs: Sequence[Path] = VULKAN_ICD_DIRS,
) -> list[str]:
    """Every missing piece, each as "what is missing: what to do"; empty when AI2-THOR can start.
    The parameters after ``settings`` exist so that tests can stand in for this machine."""
    problems = []
    if find_spec("ai2thor") is None:
        problems.append(
            "the ai2thor package is not installed: pip install 'thor_sim_bridge[ai2thor]' in this environment "
            f"(SafeVLA pins the build ai2thor==0+{STRETCH_COMMIT_ID} from https://ai2thor-pypi.allenai.org)"
        )
    build = settings.local_executable_path
    if not build.is_file() or not os.access(build, os.X_OK):
        state = "does not exist" if not build.exists() else "is not an executable file"
        problems.append(
            f"the Unity build {build} {state}: download thor-CloudRendering-{STRETCH_COMMIT_ID} once on a machine "
            "with internet access (starting ai2thor's Controller there fetches it into ~/.ai2thor/releases/) and "
            "pass the executable inside it as local_executable_path"
        )
    if settings.platform == "CloudRendering" and not _vulkan_icds(environ, icd_dirs):
        where = environ.get("VK_ICD_FILENAMES") or ", ".join(str(d) for d in icd_dirs)
        problems.append(
            f"no Vulkan ICD found (looked in {where}): CloudRendering renders through Vulkan; install the GPU "
            "driver's Vulkan ICD (NVIDIA: nvidia_icd.json, shipped with the driver; in Docker run with "
            "--gpus all and NVIDIA_DRIVER_CAPABILITIES=all) or set VK_ICD_FILENAMES to its JSON file"
        )
    if not settings.houses_path.is_file():
        problems.append(
            f"the houses file {settings.houses_path} does not exist: download the ProcTHOR-Objaverse houses "
            "(houses_2023_07_28, the val.jsonl.gz split for the benchmark) and pass its path as houses_path"
        )
    if not settings.assets_dir.is_dir():
        problems.append(
            f"the assets folder {settings.assets_dir} does not exist: download the objathor assets "
            "(python -m objathor.dataset.download_assets --version 2023_07_28 --path DIR) and pass the assets "
            "folder it makes as assets_dir"
        )
    return problems


def require_setup(settings: ThorSettings, **machine: object) -> None:
    """Raise ``ThorSetupError`` naming every missing piece, before anything starts Unity."""
    problems = setup_problems(settings, **machine)  # type: ignore[arg-type]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ThorSetupError(f"AI2-THOR cannot start here; {len(problems)} thing(s) missing:\n{lines}\nSee {DOCS}.")


def _vulkan_icds(environ: Mapping[str, str], icd_dirs: Sequence[Path]) -> list[Path]:
    listed = [Path(p) for p in environ.get("VK_ICD_FILENAMES", "").split(os.pathsep) if p]
    if listed:
        return [p for p in listed if p.is_file()]
    return [p for d in icd_dirs if d.is_dir() for p in d.glob("*.json")]
