"""The demo's tabs, one function each: its handler (over the plain functions of
``autoreg.demo.sample`` ... ``autoreg.demo.vocoder``), its components, and its event, whose
``api_name`` lets ``gradio_client`` drive it. Each is called inside the page's ``gr.Blocks``."""

from __future__ import annotations

import numpy as np

from autoreg.demo import complete, inputs, likelihood, sample, texture, vocoder
from autoreg.demo.models import DemoModels
from autoreg.demo.widgets import (
    Widgets,
    class_label,
    displayed,
    parse_box,
    picture_from,
    surfaced,
)
from autoreg.errors import InputError

LABEL_HELP = "class label, for class-conditional models (gated_pixelcnn: digits 0-9)"


def sample_tab(w: Widgets, models: DemoModels) -> None:
    """The Sample tab: the grid of samples of a model, each sample's bits/dim and the time taken.

    Args:
      w: the shared components (and the ``gradio`` module, ``w.gr``).
      models: the models the page serves.
    """
    gr = w.gr

    def run_sample(name, label, temperature, seed, count, progress=w.plain):
        model = models.image(name)
        progress(0.1, desc=f"sampling {name}")
        result = sample.sample_grid(
            model,
            count=count,
            temperature=temperature,
            seed=seed,
            label=class_label(model, label),
        )
        summary = {
            "model": name,
            "bits_per_dim": result.bits_per_dim,
            "mean_bits_per_dim": round(float(np.mean(result.bits_per_dim)), 4),
            "seconds": round(result.seconds, 3),
        }
        return result.grid, summary

    with gr.Tab("Sample"):
        with gr.Row():
            with gr.Column():
                s_model = w.model_picker()
                s_label = gr.Number(0, precision=0, minimum=0, label=LABEL_HELP)
                s_temperature = gr.Slider(0.05, 2.0, 1.0, step=0.05, label="temperature")
                s_seed = gr.Number(0, precision=0, label="seed")
                s_count = gr.Slider(1, 16, 16, step=1, label="count")
                s_go = gr.Button("Sample", variant="primary")
            with gr.Column():
                s_grid, s_stats = w.png("samples"), gr.JSON(label="bits/dim and time")
        s_go.click(
            surfaced(run_sample),
            [s_model, s_label, s_temperature, s_seed, s_count],
            [s_grid, s_stats],
            api_name="sample",
        )


def observed_region(model, hidden: str, box: str, mask) -> np.ndarray:
    """The (H, W) observed pixels of the Complete tab: all but the ``hidden`` region (a half,
    the ``box`` text ``"Y0,X0,Y1,X1"``, or what was painted on the ``mask`` canvas)."""
    height, width, _ = model.event_shape()
    painted = inputs.painted_region(mask)
    painted = None if painted is None else inputs.region_mask(painted, height, width)
    return complete.observed_mask(
        hidden,
        height,
        width,
        box=parse_box(box) if hidden == "box" else None,
        painted=painted,
    )


def mask_canvas(value):
    """The mask canvas's value with the picture of ``value`` (an editor's) under it."""
    picture = inputs.editor_picture(value)
    if picture is None:
        return None
    return {"background": picture, "layers": [], "composite": picture}


def complete_handler(w: Widgets, models: DemoModels):
    """The Complete tab's handler: its inputs' values -> (the grid, a summary)."""

    def run_complete(
        name,
        label,
        picture,
        light_on_dark,
        hidden,
        box,
        mask,
        method,
        particles,
        count,
        seed,
        progress=w.plain,
    ):
        model = models.image(name)
        image = inputs.model_image(
            picture_from(picture, "an image"), model, light_on_dark=light_on_dark
        )
        observed = observed_region(model, hidden, box, mask)
        if not models.is_warm(name):
            progress(0.0, desc=f"{name}: compiling (the first request of a model waits for it)")
        limit = complete.particle_limit(
            models.completion_cost(name), int(count), model.event_shape()[0]
        )
        progress(0.0, desc=f"completing with {name}")
        result = complete.complete_image(
            model,
            image,
            observed,
            count=count,
            method=method,
            particles=particles,
            seed=seed,
            label=class_label(model, label),
            max_particles=limit,
            on_progress=lambda fraction, text: progress(fraction, desc=text),
        )
        summary = {
            "model": name,
            "method": result.method,
            "hidden_pixels": int((~result.observed).sum()),
            "scale": result.scale,
            "seconds": round(result.seconds, 3),
            "particle_limit": limit,
        }
        return result.grid, noted(summary, models, image, model.levels)

    return run_complete


DEFAULT_COUNT = 4  # completions of the Complete tab's default request
PARTICLES_HELP = (
    "SMC particles (the most a request may use is set from what a completion costs here)"
)


def particle_maximum(models: DemoModels, name: str | None, count: int) -> int:
    """The particle slider's maximum for ``count`` completions with model ``name``: measured
    where the model has warmed up, ``complete.MAX_PARTICLES`` until then (a request is checked
    against the measured limit either way)."""
    if name is None or not models.is_warm(name):
        return complete.MAX_PARTICLES
    rows = models.image(name).event_shape()[0]
    return complete.particle_limit(models.completion_cost(name), int(count), rows)


def noted(summary: dict, models: DemoModels, image, levels: int) -> dict:
    """``summary`` with a ``note`` (also shown as a warning on the page) when the models know
    digits and ``image`` does not look like one."""
    note = inputs.digit_note(image, levels) if models.digits else None
    if note is None:
        return summary
    from autoreg.demo.widgets import import_gradio

    import_gradio().Warning(note)
    return {**summary, "note": note}


def complete_tab(w: Widgets, models: DemoModels) -> None:
    """The Complete tab: completions of a drawn or uploaded digit with a region hidden.

    Args:
      w: the shared components (and the ``gradio`` module, ``w.gr``).
      models: the models the page serves.
    """
    gr = w.gr

    run_complete = complete_handler(w, models)

    with gr.Tab("Complete"):
        with gr.Row():
            with gr.Column():
                c_model = w.model_picker()
                c_label = gr.Number(0, precision=0, minimum=0, label=LABEL_HELP)
                c_picture = w.editor("image: draw a digit or upload a picture")
                c_light = gr.Checkbox(True, label="invert a dark-on-light picture")
                c_hidden = gr.Radio(
                    list(complete.HIDDEN_REGIONS), value="bottom half", label="hidden region"
                )
                c_box = gr.Textbox("8,6,20,22", label="box: Y0,X0,Y1,X1 (model pixels)")
                c_copy = gr.Button("show the image on the mask canvas", size="sm")
                c_mask = w.editor("painted: paint the region to hide")
                w.offer("digit", c_picture)
            with gr.Column():
                c_method = gr.Radio(
                    ["auto", "exact", "smc"],
                    value="auto",
                    label="method (auto: exact for a bottom hole)",
                )
                c_particles = gr.Slider(
                    1,
                    particle_maximum(models, w.names[0] if w.names else None, DEFAULT_COUNT),
                    16,
                    step=1,
                    label=PARTICLES_HELP,
                )
                c_count = gr.Slider(1, 8, DEFAULT_COUNT, step=1, label="completions")
                c_seed = gr.Number(0, precision=0, label="seed")
                c_go = gr.Button("Complete", variant="primary")
                c_stats = gr.JSON(label="method and time")
        c_grid = w.png("occluded input (hidden in magenta), completions, original")
        c_copy.click(mask_canvas, c_picture, c_mask, api_visibility="private")
        for changed in (c_model, c_count):  # the particle limit follows the model and count
            changed.change(
                lambda name, count: gr.Slider(maximum=particle_maximum(models, name, count)),
                [c_model, c_count],
                c_particles,
                api_visibility="private",
                queue=False,
            )
        c_go.click(
            surfaced(run_complete),
            [
                c_model,
                c_label,
                c_picture,
                c_light,
                c_hidden,
                c_box,
                c_mask,
                c_method,
                c_particles,
                c_count,
                c_seed,
            ],
            [c_grid, c_stats],
            api_name="complete",
        )


def likelihood_tab(w: Widgets, models: DemoModels) -> None:
    """The Likelihood tab: the per-pixel bits of an image under every image model, side by side.

    Args:
      w: the shared components (and the ``gradio`` module, ``w.gr``).
      models: the models the page serves.
    """
    gr = w.gr

    def run_likelihood(picture, light_on_dark, label, progress=w.plain):
        picture = picture_from(picture, "an image")
        results, image, levels = [], None, 256
        for i, name in enumerate(w.names):
            progress(i / len(w.names), desc=f"scoring with {name}")
            model = models.image(name)
            image = inputs.model_image(picture, model, light_on_dark=light_on_dark)
            chosen = None if label is None or int(label) < 0 else int(label)
            results.append(likelihood.image_likelihood(name, model, image, label=chosen))
            levels = model.levels
        tiles, vmax = likelihood.heatmap_tiles(image, results, levels)
        captions = ["input, as the models see it"] + [
            f"{r.name}: {r.bits_per_dim:.3f} bits/dim"
            + ("" if r.label is None else f" (label {r.label})")
            for r in results
        ]
        summary = {
            "bits_per_dim": {r.name: round(r.bits_per_dim, 4) for r in results},
            "labels": {r.name: r.label for r in results if r.label is not None},
            "colour_scale_bits": [0.0, round(vmax, 3)],
            "seconds": {r.name: round(r.seconds, 3) for r in results},
        }
        return list(zip(tiles, captions, strict=True)), noted(summary, models, image, levels)

    with gr.Tab("Likelihood"):
        with gr.Row():
            with gr.Column():
                l_picture = w.editor("image: draw a digit or upload a picture")
                l_light = gr.Checkbox(True, label="invert a dark-on-light picture")
                l_label = gr.Number(
                    -1, precision=0, minimum=-1, label="class label (-1: the most likely)"
                )
                l_go = gr.Button("Score", variant="primary")
                w.offer("digit", l_picture)
            with gr.Column():
                l_maps = gr.Gallery(
                    label="bits per pixel (dark: 0 bits)", columns=3, format="png", height=520
                )
                l_stats = gr.JSON(label="bits/dim per model")
        l_go.click(
            surfaced(run_likelihood),
            [l_picture, l_light, l_label],
            [l_maps, l_stats],
            api_name="likelihood",
        )


def texture_tab(w: Widgets, models: DemoModels) -> None:
    """The Texture tab: Efros-Leung and the PixelCNN texture of an uploaded example.

    Args:
      w: the shared components (and the ``gradio`` module, ``w.gr``).
      models: the models the page serves.
    """
    gr = w.gr

    def run_texture(path, size, steps, window, seed, progress=w.tracked):
        from autoreg.data.images import read_image
        from autoreg.image_io import picture_scale, upscale

        if not path:
            raise InputError("upload an example texture first")
        source = read_image(path)
        result = texture.synthesise_textures(
            source,
            size=size,
            steps=steps,
            window=window,
            seed=seed,
            report=lambda fraction, what: progress(fraction, desc=what),
        )
        scale = picture_scale(result.efros_leung.shape)
        summary = {
            "size": int(size),
            "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        }
        textures = (displayed(upscale(t, scale)) for t in (result.efros_leung, result.pixelcnn))
        return (*textures, summary)

    with gr.Tab("Texture"):
        with gr.Row():
            with gr.Column():
                t_source = gr.Image(type="filepath", label="example texture (PNG/JPEG)")
                t_size = gr.Slider(8, texture.MAX_SIZE, 48, step=1, label="texture side (px)")
                t_steps = gr.Slider(
                    1, texture.MAX_STEPS, 200, step=1, label="PixelCNN training steps"
                )
                t_window = gr.Slider(3, 21, 9, step=2, label="Efros-Leung window")
                t_seed = gr.Number(0, precision=0, label="seed")
                t_go = gr.Button("Synthesise", variant="primary")
                w.offer("texture", t_source)
            with gr.Column():
                with gr.Row():
                    t_efros, t_pixelcnn = w.png("Efros-Leung"), w.png("PixelCNN")
                t_stats = gr.JSON(label="time")
        t_go.click(
            surfaced(run_texture),
            [t_source, t_size, t_steps, t_window, t_seed],
            [t_efros, t_pixelcnn, t_stats],
            api_name="texture",
        )


def vocoder_tab(w: Widgets, models: DemoModels) -> None:
    """The Vocoder tab: speech resynthesised by the WaveNet vocoder and by Griffin-Lim.

    Args:
      w: the shared components (and the ``gradio`` module, ``w.gr``).
      models: the models the page serves.
    """
    gr = w.gr

    def run_vocode(path, seconds, seed, progress=w.tracked):
        if not path:
            raise InputError("upload or record some speech first")
        result = vocoder.resynthesise(
            models.vocoder(),
            path,
            max_seconds=seconds,
            seed=seed,
            report=lambda fraction, what: progress(fraction, desc=what),
        )
        rate = result.sample_rate

        def pcm(audio):
            return rate, np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)

        summary = {
            "sample_rate": rate,
            "input_seconds": round(len(result.original) / rate, 3),
            "samples": len(result.wavenet),
            "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        }
        outputs = (result.original, result.wavenet, result.griffin_lim)
        return (*[pcm(a) for a in outputs], result.spectrograms, summary)

    with gr.Tab("Vocoder"):
        gr.Markdown(
            f"The WaveNet vocoder draws 16 000 samples per second of speech, one at a time: "
            f"on a CPU that takes several seconds per second of speech, so only the first "
            f"seconds of the input are used (at most {vocoder.MAX_SECONDS:g} s)."
        )
        with gr.Row():
            with gr.Column():
                v_audio = gr.Audio(
                    sources=["upload", "microphone"],
                    type="filepath",
                    label="speech (WAV, FLAC, Ogg) or a recording",
                )
                v_seconds = gr.Slider(
                    0.1,
                    vocoder.MAX_SECONDS,
                    vocoder.DEFAULT_SECONDS,
                    step=0.1,
                    label="seconds used",
                )
                v_seed = gr.Number(0, precision=0, label="seed")
                v_go = gr.Button("Resynthesise", variant="primary")
                w.offer("speech", v_audio)
            with gr.Column():
                v_original = gr.Audio(label="input (resampled, cut)", format="wav")
                v_wavenet = gr.Audio(label="WaveNet vocoder", format="wav")
                v_griffin = gr.Audio(label="Griffin-Lim", format="wav")
        v_spectrograms = w.png("log-mel spectrograms: input, WaveNet, Griffin-Lim")
        v_stats = gr.JSON(label="time")
        v_go.click(
            surfaced(run_vocode),
            [v_audio, v_seconds, v_seed],
            [v_original, v_wavenet, v_griffin, v_spectrograms, v_stats],
            api_name="vocode",
        )
