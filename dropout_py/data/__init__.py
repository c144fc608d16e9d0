"""Data layer: IDX files, verified fetching, the user cache and MNIST as arrays.

Nothing here knows about networks; :mod:`dropout_py.mnist` is the public face.
"""
