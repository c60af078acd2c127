"""The sync steps the assets run, one module per step: ``spaces`` (resolve), ``plan``
(list, diff, fetch; with ``probe``), ``convert`` (with ``converter``), ``upload`` (with
``upload_batches``) and ``reconcile``; ``run`` chains them without Dagster."""
