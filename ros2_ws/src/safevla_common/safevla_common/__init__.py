"""Facts shared by every SafeVLA-ROS package. Modules here import no ROS except under ``ros/``."""
