"""The one ``Definitions`` object that ``workspace.yaml`` loads."""

import dagster as dg

from confluence_pipeline.defs import definitions as sync_definitions

defs = dg.Definitions.merge(sync_definitions.defs)
