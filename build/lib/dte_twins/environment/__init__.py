"""Environment twins: flood and drought early warning."""
