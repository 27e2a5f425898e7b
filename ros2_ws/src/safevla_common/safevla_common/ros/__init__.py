"""ROS 2 adapters shared by the nodes. Only node modules import this subpackage."""
