"""The kernel: what every layer above may use, importing nothing above it."""
