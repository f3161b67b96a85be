"""palaute: patient feedback kiosks, SMS surveys and their sync to a central store."""

import os

from survey import __version__

# pygame greets on stdout when first imported; the `palaute` command's stdout carries
# --json answers and reports. Set here, before any part can import pygame.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

__all__ = ["__version__"]
