"""Plots and views of runs and models (PNG files, layer tables, attention maps)."""
