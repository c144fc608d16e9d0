"""Running experiments: runs, sweeps, results files, side-by-side comparisons, progress."""
