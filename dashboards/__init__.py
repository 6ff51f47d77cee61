"""The browser dashboard and the report/figure builder (thin layers over the model's Python API).

- :mod:`dashboards.app`: the Mesa SolaraViz page (``tipline dashboard``);
- :mod:`dashboards.report`: the offline HTML report and static figures (``tipline report``);
- :mod:`dashboards.assets`: the one-time offline install of Solara's browser assets;
- :mod:`dashboards.cli`: registers both commands into ``tipline``.
"""
