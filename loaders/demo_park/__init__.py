"""The demo park: a simulated wind farm (sensor database, CSV exports, weather API) that
exercises the pipeline end to end, faults included. See docs/architecture.md."""

from loaders.demo_park.simulator import generate, injected_faults
from loaders.demo_park.weather_server import serve_in_background

__all__ = ["generate", "injected_faults", "serve_in_background"]
