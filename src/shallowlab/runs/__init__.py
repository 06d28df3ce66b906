"""A run, from its settings to its folder: ``settings`` (checked, spelled as flags),
``folder`` (the run folder, written atomically), ``checkpoints`` (save, restore, resume),
``lifecycle`` (a run carried out, its summary kept true), ``classifier`` (a Fashion-MNIST
classifier's run), ``tensorboard`` (the optional event files) and ``table`` (runs read back)."""
