"""The browser dashboard and the report/figure builder (thin layers over the model's Python API).

- :mod:`dashboards.app`: the Mesa SolaraViz page (``tipline dashboard`` runs it); its parts are in
  :mod:`dashboards.live` (controls from the schema, the model and its twin, figures, text, components);
- :mod:`dashboards.report`: the offline HTML report and static figures (``tipline report``);
- :mod:`dashboards.labels` and :mod:`dashboards.sankey`: the short names, colours and Sankey diagrams both use;
- :mod:`dashboards.assets`: the one-time offline install of Solara's browser assets;
- :mod:`dashboards.cli`: registers both commands into ``tipline``.
"""
