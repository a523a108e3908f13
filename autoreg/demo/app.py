"""The demo page: a Gradio ``Blocks`` with one tab per job, each built by a function of
``autoreg.demo.tabs`` over the plain functions of the tab modules (``autoreg.demo.sample`` ...
``autoreg.demo.vocoder``).

Every event has an ``api_name`` (``sample``, ``complete``, ``likelihood``, ``texture``,
``vocode``), so that ``gradio_client.Client`` can drive the page as the tests do. Bad input is
answered with the library's one-line message (a ``gradio.Error``, one line in the server's log
too) and the server keeps serving; one job runs at a time
(``queue(default_concurrency_limit=1)``). The models warm up when the page starts: the first
(the one the lists show) before it serves, the others in the background, so that the first
click does not wait for a compilation unexplained. Gradio is imported
only through ``autoreg.demo.widgets.import_gradio``; analytics are off and the page loads no
web fonts, so nothing leaves the machine.
"""

from __future__ import annotations

from autoreg.demo import tabs
from autoreg.demo.models import DemoModels
from autoreg.demo.widgets import Widgets, import_gradio

DEFAULT_HOST = "127.0.0.1"  # local only; another address only when asked for
DEFAULT_PORT = 7860
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]  # no font download
SYSTEM_MONO = ["ui-monospace", "monospace"]

INTRO = """# autoreg demo
Autoregressive models in JAX: exact samples, completions, likelihoods, textures and a WaveNet
vocoder. Drawn digits are read like MNIST (28x28, light on dark: a dark drawing on white is
inverted). One job runs at a time."""


def build_app(models: DemoModels, examples: dict | None = None):
    """The demo page for ``models``.

    Args:
      models: the image models and the vocoder the page serves.
      examples: example inputs offered under the tabs' inputs, by kind: ``"digit"`` (an
        image file for Complete and Likelihood), ``"texture"`` (an image file), ``"speech"``
        (an audio file); None or a missing kind offers none.

    Returns:
      A ``gradio.Blocks`` (not launched; ``launch`` queues and serves it).

    Raises:
      MissingExtraError: gradio is not installed.
    """
    gr = import_gradio()
    widgets = Widgets(gr, models.image_names, examples or {})
    with gr.Blocks(title="autoreg demo", analytics_enabled=False) as page:
        gr.Markdown(INTRO)
        for tab in (
            tabs.sample_tab,
            tabs.complete_tab,
            tabs.likelihood_tab,
            tabs.texture_tab,
            tabs.vocoder_tab,
        ):
            tab(widgets, models)
    return page


def launch(
    models: DemoModels,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
    examples: dict | None = None,
    warm_up: bool = True,
):
    """Build the page, queue it (one job at a time) and serve it at ``http://host:port``.

    Never shared through Gradio's public links; only ``host`` decides who can reach it.

    Args:
      models: the models to serve.
      host: the address to listen on (default 127.0.0.1: this machine only).
      port: the port.
      prevent_thread_lock: return at once, serving from a thread (tests); else block.
      quiet: print nothing (else: the warm-up and the address, one line each).
      examples: example inputs, as ``build_app`` takes them.
      warm_up: compile and measure the image models (``DemoModels.warm_up``): the first before
        serving, the others in the background once the page serves.

    Returns:
      The launched ``gradio.Blocks`` (``.close()`` stops it).

    Raises:
      MissingExtraError: gradio is not installed.
      OSError: the port cannot be bound.
    """
    gr = import_gradio()
    say = (lambda line: None) if quiet else (lambda line: print(f"autoreg demo: {line}"))
    names = models.image_names
    if warm_up and names:
        say(f"warming up {names[0]} (compiling sampling and completion)")
        models.warm_up(names[:1], report=say)
    page = build_app(models, examples).queue(default_concurrency_limit=1)
    if warm_up and len(names) > 1:  # the others while the page serves (launch may block)
        say(f"warming up {', '.join(names[1:])} in the background")
        models.warm_up_in_background(report=say)
    theme = gr.themes.Default(font=SYSTEM_FONTS, font_mono=SYSTEM_MONO)
    say(f"serving on http://{host}:{port} (Ctrl-C stops it)")
    page.launch(
        server_name=host,
        server_port=int(port),
        share=False,
        show_error=True,
        prevent_thread_lock=prevent_thread_lock,
        quiet=True,  # our own lines (say) instead of Gradio's banner
        theme=theme,
        ssr_mode=False,
        inbrowser=False,
    )
    return page
