"""The training core: everything a training run needs and nothing about files or pages.

``metrics`` (counts and fractions of right predictions, calibration), ``devices`` (which device,
what it can hold), ``timing``, ``schedules`` (learning rate and batch size as functions of the
position in a run), ``fused`` (the MLP's step written out), ``steps`` (one batch's forward and
update, by engine), ``callbacks`` (what a run does beside training) and ``loop`` (``fit``,
``evaluate``).
"""
