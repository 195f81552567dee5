"""New Horizons registration: the kernel (core/), the features across the domains, and the wiring (factory.py, cli.py)."""
