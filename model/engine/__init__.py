"""The compiled engine: the agencies' day as numba kernels over arrays (the numpy classes are the reference).

:class:`model.engine.casework.CompiledCasework` runs the same day as :class:`model.casework.Casework`
with identical results (the golden tests run both); ``RetentionModel(engine="numpy")`` or the
environment variable ``TIPLINE_ENGINE=numpy`` selects the reference.
"""
