"""The one batched prediction path (:mod:`.batching`: length grouping, padding, eval mode, autocast) and
what is built on it: class logits, tag decoding, classification (:mod:`.classify`), embeddings (:mod:`.embed`)."""
