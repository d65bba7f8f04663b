"""One module per CLI command (see worker/cli.py)."""
