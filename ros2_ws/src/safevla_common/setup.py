from setuptools import find_packages, setup

PACKAGE = "safevla_common"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy"],
    zip_safe=True,
    description="Shared facts of SafeVLA-ROS: actions, topics, QoS, codecs, loopback environment.",
    license="Apache-2.0",
)
