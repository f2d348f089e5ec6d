"""The one batched prediction path: length grouping, padding, autocast."""
