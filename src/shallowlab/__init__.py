"""shallowlab: the models of Dive into Deep Learning chapters 2.5-4, from scratch and concisely.

Import what you need from the submodules (``shallowlab.data``, ``shallowlab.models.nets``,
``shallowlab.core.loop``, ...); importing the package itself does no work.
"""

__version__ = "0.1.0"
