-- The pipeline's state lives beside Dagster's tables, in a schema of its own
-- (CONFLUENCE_PIPELINE_DATABASE_URL sets search_path to it); its tables are created on first use.
CREATE SCHEMA IF NOT EXISTS confluence_state;
