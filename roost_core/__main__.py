"""python -m roost_core: the roost CLI."""

from roost_core.cli import main

if __name__ == "__main__":
    main()
