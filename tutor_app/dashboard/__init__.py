"""The teacher's view across the features: mastery, misconceptions (math and conversation
alike), who is stuck, transcripts and CSV exports. Above the features, so it may read them all."""
