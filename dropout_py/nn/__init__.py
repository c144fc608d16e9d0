"""The networks: the two engines, their shared maths, training events, scores and model files.

Imports only :mod:`dropout_py.data` (for preprocessing), never the run or figure layers.
"""
