"""Video prediction and pictures of video, one module per job.

- ``predict``: what happens next in a clip, ``num`` futures of ``frames`` frames after
  ``context`` observed ones (``predict_futures``): exact samples from a video model
  (``autoreg.complete`` of a prefix), or the nearest-neighbour baseline.
- ``nearest``: the classical non-parametric baseline for "what happens next": find the windows
  of a database of clips nearest to the observed frames and continue as they did
  (``nearest_futures``, ``NearestFutures``), after Yuen & Torralba (2010), "A data-driven
  approach for event prediction".
- ``inflation``: a video model whose per-frame decoder starts as a trained image model
  (``inflate``, after Carreira & Zisserman 2017).
- ``motion``: are a video model's futures using motion? Its likelihood of the future given the
  observed frames in order, shuffled and removed, and the MSE and SSIM of its sampled futures
  against those of predictors without motion (``motion_report``).
- ``gif``: animated GIFs, written atomically: sampled clips side by side (``video_grid``,
  ``write_samples_gif``, ``write_gif``) and observed frames with the true and the predicted futures
  (``write_futures_gif``).
"""

from typing import TYPE_CHECKING

from autoreg.lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers and the API reference read; __getattr__ at run time
    from autoreg.video.gif import (
        futures_grid,
        video_grid,
        write_futures_gif,
        write_gif,
        write_samples_gif,
    )
    from autoreg.video.inflation import inflate
    from autoreg.video.motion import MotionReport, motion_report
    from autoreg.video.nearest import NearestFutures, nearest_futures
    from autoreg.video.predict import predict_futures

__all__ = [
    "MotionReport",
    "NearestFutures",
    "futures_grid",
    "inflate",
    "motion_report",
    "nearest_futures",
    "predict_futures",
    "video_grid",
    "write_futures_gif",
    "write_gif",
    "write_samples_gif",
]

# The module each public name comes from (imported on first use: importing autoreg.video.gif
# runs neither the predictor nor the models it needs).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "MotionReport": "autoreg.video.motion",
        "NearestFutures": "autoreg.video.nearest",
        "futures_grid": "autoreg.video.gif",
        "inflate": "autoreg.video.inflation",
        "motion_report": "autoreg.video.motion",
        "nearest_futures": "autoreg.video.nearest",
        "predict_futures": "autoreg.video.predict",
        "video_grid": "autoreg.video.gif",
        "write_futures_gif": "autoreg.video.gif",
        "write_gif": "autoreg.video.gif",
        "write_samples_gif": "autoreg.video.gif",
    },
)
