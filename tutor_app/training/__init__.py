"""Fine-tuning the tutor's model for a school: a LoRA adapter trained with PEFT and
transformers on teacher-approved chat examples, converted to a GGUF adapter that llama.cpp
loads on top of the very GGUF the app runs.

Nothing here is imported by the app at run time: torch, transformers and peft come from
``requirements-train.txt`` and are imported inside the functions that need them, so the
tutor starts (and its other tests run) on a machine without them.
"""
