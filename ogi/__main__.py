"""`python -m ogi …` runs the `ogi` command line (for environments without the entry point)."""

from ogi.cli import main

if __name__ == "__main__":
    main()
