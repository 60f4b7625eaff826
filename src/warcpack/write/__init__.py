"""Writers of a built corpus: JSONL and parquet shards, dataset card, croissant.json, summary."""
