"""The local engine's forkserver, which can be started before the driver has imported anything
heavy, so its imports and warm-up (see `preload`) run beside the driver's instead of after."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver

PRELOAD = ["warcpack.engines.preload"]


def context() -> multiprocessing.context.ForkServerContext:
    """The forkserver context, set to preload warcpack's extraction modules."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def prestart(workers: int | None) -> None:
    """Start the forkserver now if a build with `workers` (None: one per core) may use it."""
    if (workers or os.cpu_count() or 1) > 1:
        context()
        forkserver.ensure_running()
