"""Entry point for ``python -m carecoord``."""

from carecoord.cli import main

if __name__ == "__main__":
    main()
