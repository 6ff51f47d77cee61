"""The interactive browser dashboard: a Mesa SolaraViz page of the CyberTipline pipeline, run live.

Start it with ``tipline dashboard`` (or ``solara run dashboards/app.py`` with the offline asset
environment of :mod:`dashboards.assets`). The page runs a small, fast scenario (X/Twitter alone, no
warm-up, one model step = one day) and, in lockstep on the same seed, a *twin* run under the other
retention rule, so the gap between their evidence-lost lines is the effect of the window alone. US cases
lead everywhere; foreign cases (MLAT / CLOUD Act) are shown beside them, never pooled into the headline.

This module only assembles the page (``solara run`` needs ``page``, and SolaraViz a ``model``, at module
level); its parts are in :mod:`dashboards.live`: the controls generated from the schema (``controls``), the
model and its twin (``twin``), the plots (``figures``), the headline and help (``text``) and the Solara
components (``components``).
"""

from __future__ import annotations

from mesa.visualization import SolaraViz

from dashboards.live.components import COMPONENTS
from dashboards.live.controls import PLAY_INTERVAL, RENDER_INTERVAL, model_params
from dashboards.live.twin import DashboardModel

TITLE = "CyberTipline: evidence lost before legal process reaches the platform"

model = DashboardModel()
page = SolaraViz(model, components=COMPONENTS, model_params=model_params(), play_interval=PLAY_INTERVAL,
                 render_interval=RENDER_INTERVAL, name=TITLE)
