"""`python -m chatocr` runs the command-line interface."""

from chatocr.cli import main

main()
