"""`palaute central relabel`: topics and tone for every stored free text of the current model."""

from __future__ import annotations

import argparse
import sys

from central.cli_registry import _db_options, _url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `relabel`."""
    p = sub.add_parser(
        "relabel", help="label stored free texts again (topics, tone) after a model change",
        description="Gives every stored free text the topics and tone of this palaute's "
        "model (survey.topics) where its label is missing or was made by another model "
        "version. Safe to stop and run again; the report uses the labels.")
    _db_options(p)
    p.add_argument("--batch", type=int, default=500, metavar="N",
                   help="responses per transaction (default 500)")
    p.set_defaults(handler=_relabel)


def _relabel(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from central.store import open_central
    from central.text_labels import label_counts, relabel
    from survey.errors import ConfigError
    from survey.topics import MODEL_VERSION

    if args.batch < 1:
        raise ConfigError("--batch", "must be at least 1")
    with open_central(_url(args)) as store:
        _, pending = label_counts(store)
        with tqdm(total=pending, unit="responses", disable=not sys.stderr.isatty(),
                  file=sys.stderr) as bar:
            result = relabel(store, batch=args.batch, progress=bar.update)
        labelled, left = label_counts(store)
    print(f"model {MODEL_VERSION}: labelled {result.texts} texts of {result.responses} "
          f"responses; {labelled} texts carry this model's labels, {left} responses to go")
    return 0
