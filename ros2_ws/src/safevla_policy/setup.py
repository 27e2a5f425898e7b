from setuptools import find_packages, setup

PACKAGE = "safevla_policy"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy", "torch", "safetensors", "safevla_common", "thor_sim_bridge"],
    extras_require={"hf": ["transformers"], "onnx": ["onnx", "onnxscript", "onnxruntime-gpu"]},
    zip_safe=True,
    description="The SafeVLA policy: model, checkpoints, ONNX export, inference backends, policy node.",
    license="Apache-2.0",
    entry_points={"console_scripts": [f"policy_node = {PACKAGE}.policy_node:main"]},
)
