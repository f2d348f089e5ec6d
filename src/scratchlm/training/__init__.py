"""Training: the loop in named stages (``loop``), the run directory it writes and eval/predict read
(``run_dir``), the optimizer and schedule, one step with accumulation and autocast (``step``), EMA,
checkpoints with exact resume, DDP/FSDP (``distributed``), model.init (``init``, ``finetune``)."""
