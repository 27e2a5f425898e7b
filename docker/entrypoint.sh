#!/usr/bin/env bash
# Source ROS and the workspace; the loopback rule holds inside the container too.
set -e
source /opt/ros/kilted/setup.bash
source /ws/install/setup.bash
export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
exec "$@"
