-- The pipeline's own PostgreSQL role, least privilege: it logs in and owns the schema of the
-- pipeline's state (its tables are created there on first use), nothing else. No SUPERUSER,
-- CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS; no rights on Dagster's tables beside it.
--
-- psql runs it, as a superuser or the database's owner, in the database that holds the state
-- (Dagster's, for one server): the postgres image's /docker-entrypoint-initdb.d
-- (deploy/compose.yaml), deploy/local.sh, or by hand:
--   psql -d dagster -v role=confluence_pipeline -v schema=confluence_state -f deploy/postgres-init.sql
-- psql variables: role (default confluence_pipeline), schema (default confluence_state). The
-- password comes from the environment, CONFLUENCE_PIPELINE_POSTGRES_PASSWORD, never from a file
-- or a command line; unset or empty, the role has none (trust or peer authentication only).
-- Running it again is harmless: it re-asserts the same attributes. PostgreSQL 15 or newer: from
-- 15 on, PUBLIC cannot create in schema public, so the role cannot write outside its schema.
\set ON_ERROR_STOP on
\if :{?role}
\else
\set role confluence_pipeline
\endif
\if :{?schema}
\else
\set schema confluence_state
\endif
\getenv password CONFLUENCE_PIPELINE_POSTGRES_PASSWORD
\if :{?password}
\else
\set password ''
\endif

SELECT format('CREATE ROLE %I', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec

SELECT format(
    'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
    'INHERIT PASSWORD %L',
    :'role',
    NULLIF(:'password', '')
) \gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role') \gexec

CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"role";
ALTER SCHEMA :"schema" OWNER TO :"role";

-- unqualified names resolve in the state schema even without ?options=-csearch_path in the URL
SELECT format(
    'ALTER ROLE %I IN DATABASE %I SET search_path = %I', :'role', current_database(), :'schema'
) \gexec
