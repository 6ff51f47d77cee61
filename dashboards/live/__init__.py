"""The live dashboard's parts; :mod:`dashboards.app` puts them on one SolaraViz page.

- :mod:`~dashboards.live.controls`: the sidebar's controls, generated from the schema, and the base scenario;
- :mod:`~dashboards.live.twin`: the page's model, run in lockstep with its twin under the other retention rule;
- :mod:`~dashboards.live.figures`: the plots, pure functions of a model;
- :mod:`~dashboards.live.text`: the headline and the controls' help in words;
- :mod:`~dashboards.live.components`: the Solara components that show them and keep them live.
"""
