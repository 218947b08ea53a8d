"""Arabic formats (see formats.py)."""
