"""The classroom side of fine-tuning: teachers' judgements of what the model said (curation),
kept apart from the originals, and the training export built only from what they approved."""
