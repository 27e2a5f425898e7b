from glob import glob

from setuptools import find_packages, setup

PACKAGE = "safevla"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/launch/params", glob("launch/params/*.yaml")),
    ],
    install_requires=["pyyaml", "tqdm", "rich", "safevla_common"],
    zip_safe=True,
    description="Bringup for SafeVLA-ROS: launch and parameter files, and the launcher for pip-only machines.",
    license="Apache-2.0",
    entry_points={"console_scripts": [
        "safevla-launch = safevla.launcher:main",
        "safevla-sim = safevla.run_sim:main",
    ]},
)
