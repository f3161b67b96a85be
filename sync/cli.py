"""Subcommands of the sync agent: run."""

from __future__ import annotations

import argparse

from survey.config import load_config
from survey.store import Store
from survey.systemd import stop_on_signals


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `run`."""
    run = sub.add_parser(
        "run", help="carry final answers to the central over MQTT (a service)",
        description="Reads [device], [survey], [mqtt] and [sync] of the config file and runs "
        "until SIGTERM or SIGINT.",
    )
    run.add_argument("--config", required=True, metavar="FILE", help="device config (TOML)")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from sync.agent import agent_from_config

    config = load_config(args.config)
    stop = stop_on_signals()
    with Store(config.store_path()) as store:
        agent = agent_from_config(config, store)
        agent.run(stop)
    return 0
