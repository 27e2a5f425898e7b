from setuptools import find_packages, setup

PACKAGE = "thor_sim_bridge"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy", "gymnasium", "imageio", "pillow", "matplotlib", "safevla_common"],
    extras_require={"ai2thor": ["ai2thor"]},
    zip_safe=True,
    description="Household simulation for SafeVLA: embedded simulator, AI2-THOR backend, Safety-CHORES costs.",
    license="Apache-2.0",
    entry_points={"console_scripts": [f"sim_bridge_node = {PACKAGE}.sim_bridge_node:main"]},
)
