from setuptools import find_packages, setup

PACKAGE = "safe_monitor"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy", "safetensors", "safevla_common"],
    extras_require={"train": ["torch", "scikit-learn", "matplotlib", "tqdm"]},
    zip_safe=True,
    description="SAFE failure detection and the monitor node that latches the e-stop.",
    license="Apache-2.0",
    entry_points={"console_scripts": [f"monitor_node = {PACKAGE}.monitor_node:main"]},
)
