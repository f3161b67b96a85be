"""The entry point `palaute provision` uses to render a kiosk's audio prompts."""

from __future__ import annotations

from pathlib import Path

from kiosk.audio_mode import render_for_config


def render_prompts_for_config(config_path: str | Path) -> int:
    """Render the missing prompts of the kiosk in `config_path`; how many were rendered."""
    rendered, _cached = render_for_config(config_path)
    return rendered
