"""Deploying a school's LoRA adapter: the adapters in ``models/adapters/`` with their training
record and evaluation reports, switching the running model to one (or back) without a restart,
and the log of who switched to what when."""
