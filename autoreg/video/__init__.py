"""Video prediction, one module per method.

- ``nearest``: the classical non-parametric baseline for "what happens next": find the windows
  of a database of clips nearest to the observed frames and continue as they did
  (``nearest_futures``, ``NearestFutures``), after Yuen & Torralba (2010), "A data-driven
  approach for event prediction".
"""

from autoreg.video.nearest import NearestFutures, nearest_futures

__all__ = ["NearestFutures", "nearest_futures"]
