"""The training machinery, apart from the models' maths.

* ``steps.Trainer``: the ``train_step``/``test_step``/``compile`` a model mixes
  in (noise feeding, the XLA step, stacked steps, replica rows);
* ``metrics``: the terms and their running means;
* ``distribute``: ``--strategy``, the chief, a replica's rows;
* ``optim.FusedAdam``: Adam in one TF kernel per variable.

Nothing here imports ``tfvae.models``.
"""
