"""Understanding a message: normalising, spelling, foods and the learned intent model."""
