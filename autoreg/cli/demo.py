"""``autoreg demo``: serve the local demo page (Gradio) with the shipped models or checkpoints."""

from __future__ import annotations

from autoreg.cli.common import CLIError


def port_number(text: str) -> int:
    """A TCP port, 1..65535 (argparse type)."""
    import argparse

    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is an integer in 1..65535, got {text!r}")
    return port


def add_demo_parser(sub):
    """Add the ``demo`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "demo",
        help="serve a local web page to sample, complete, score, texture and vocode",
        description="Serve the demo page (Gradio; pip install 'autoreg[demo]'): one tab each "
        "for sampling, completion, likelihood heatmaps, textures and the WaveNet vocoder. It "
        "listens on 127.0.0.1 (this machine only) unless --host says otherwise, and is never "
        "shared through a public link. Ctrl-C stops it.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 opens it to the network)",
    )
    p.add_argument("--port", type=port_number, default=7860, help="port (default 7860)")
    p.add_argument(
        "--checkpoint",
        nargs="+",
        help="serve these checkpoints (image models; a mel-conditioned WaveNet becomes the "
        "vocoder) instead of the shipped models",
    )
    p.set_defaults(run=run_demo)


def run_demo(args) -> None:
    """``autoreg demo``: load the models and serve the page until interrupted."""
    from autoreg.optional import MissingExtraError

    try:
        from autoreg.demo.app import launch
        from autoreg.demo.models import DemoModels
        from autoreg.demo.widgets import import_gradio

        import_gradio()
    except MissingExtraError as error:  # a usage error: the extra is not installed
        raise CLIError(str(error)) from None
    models = DemoModels.from_checkpoints(args.checkpoint) if args.checkpoint else None
    launch(models or DemoModels.shipped(), host=args.host, port=args.port)
