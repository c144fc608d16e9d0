"""Running experiments: settings to a trained model and its results, and progress display."""
