"""Subcommands of the sync agent: run."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from survey.config import load_config
from survey.service import Runner
from survey.store import Store

if TYPE_CHECKING:
    from sync.agent import StatusExtra

StatusExtras = Callable[[], Sequence["StatusExtra"]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             status_extras: StatusExtras = tuple) -> None:
    """Add `run`; `status_extras` gives what other parts of the device add to its heartbeat.

    The `palaute` command passes them (the SMS gateway's counters): sync imports no other part.
    """
    run = sub.add_parser(
        "run", help="carry final answers to the central over MQTT (a service)",
        description="Reads [device], [survey], [mqtt] and [sync] of the config file and runs "
        "until SIGTERM or SIGINT.",
    )
    run.add_argument("--config", required=True, metavar="FILE", help="device config (TOML)")
    run.set_defaults(handler=partial(_run, status_extras=status_extras))


def _run(args: argparse.Namespace, status_extras: StatusExtras) -> int:
    from sync.agent import agent_from_config

    config = load_config(args.config)
    extras = status_extras()
    with Store(config.store_path()) as store:
        Runner().run(agent_from_config(config, store, extras))
    return 0
