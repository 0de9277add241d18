"""`python -m crawler.cli_main …` runs the `ogi` command line (for environments without the entry point)."""

from crawler.cli import main

if __name__ == "__main__":
    main()
