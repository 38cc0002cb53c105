-- Documents with a 3-dimensional embedding (tiny on purpose: the example shows the wiring, not a model).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE documents (
  id         bigserial PRIMARY KEY,
  content    text NOT NULL,
  embedding  vector(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
