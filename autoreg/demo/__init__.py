"""``autoreg demo``: a local Gradio page with one tab per job (sample, complete, likelihood,
texture, vocoder).

Each tab's work is a plain function of numpy arrays in its own module (``sample``,
``complete``, ``likelihood``, ``texture``, ``vocoder``; ``inputs`` turns pictures from the page
into model inputs), testable without Gradio; ``app`` builds the page from them and is the only
module that imports Gradio (the ``demo`` extra: ``pip install 'autoreg[demo]'``).
"""

from __future__ import annotations

from autoreg.demo.models import DemoModels

__all__ = ["DemoModels", "build_app", "launch"]


def build_app(models: DemoModels):
    """The page (a ``gradio.Blocks``); see ``autoreg.demo.app.build_app``."""
    from autoreg.demo.app import build_app as build

    return build(models)


def launch(models: DemoModels, **options):
    """Serve the page; see ``autoreg.demo.app.launch``."""
    from autoreg.demo.app import launch as serve

    return serve(models, **options)
