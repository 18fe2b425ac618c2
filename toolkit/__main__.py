"""``python -m toolkit`` runs the ftkit command line."""

from toolkit.cli import main

main()
