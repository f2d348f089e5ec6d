"""Tasks: one file per task behind one protocol, and the registry that names them."""
