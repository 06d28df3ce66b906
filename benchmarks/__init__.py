"""shallowlab's benchmarks, each a module run from the repository root (see ``README.md``).

* ``python -m benchmarks.speed``: one training epoch of each pipeline against the hardware's
  limit (``pipelines``, ``book``, ``limits``, ``processes``);
* ``python -m benchmarks.fast``: ``shallowlab run mlp --fast`` and ``run mlp`` whole;
* ``python -m benchmarks.book_layer``: ``d2l.train_ch3`` on shallowlab's loaders and the book's.

``common`` holds what they share: the book's settings, timing, the machine, other processes'
load and the JSON report. They use shallowlab's public library only.
"""
