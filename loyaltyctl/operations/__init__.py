"""Use cases that join files, the pure core and storage; the CLI and the demo call these."""
