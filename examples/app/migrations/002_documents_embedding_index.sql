-- rail-actions:no-transaction
-- Built concurrently so writes to documents are not blocked while the index builds on a live table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS documents_embedding_hnsw ON documents USING hnsw (embedding vector_l2_ops);
