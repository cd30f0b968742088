"""tutor_app: a step-by-step AI tutor a school runs on its own hardware."""
