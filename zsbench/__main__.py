"""``python -m zsbench`` runs the command line."""

from zsbench.cli import main

main()
