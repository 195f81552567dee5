"""The summit row, its capacity gate and its status."""
