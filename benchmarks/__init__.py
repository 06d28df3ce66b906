"""shallowlab's benchmarks, each a module run from the repository root (see ``README.md``).

* ``python -m benchmarks.speed``: one training epoch of each pipeline, fp32 and bf16, against
  the hardware's limits (``pipelines``, ``book``, ``limits``, ``processes``), then the start-up
  split (``startup``);
* ``python -m benchmarks.held``: the training images held as float32 or as uint8 converted per
  batch, side by side;
* ``python -m benchmarks.fast``: ``shallowlab run mlp --fast`` and ``run mlp`` whole;
* ``python -m benchmarks.book_layer``: the book's own code through ``shallowlab.d2l`` and on the
  book's design: the Chinese edition's 3.7 (``train_ch3``; ``book``) and the English edition's
  4.4 and 5.2 (``Trainer.fit``; ``book_en``, ``book_en_sections``).

``common`` holds what they share: the book's settings, timing, the machine, other processes'
load and the JSON report. They use shallowlab's public library only.
"""
